from allocator.cli import main

main()
