"""Bad input gets a clear error naming file, field/row and value."""

import pandas as pd
import pytest

from allocator import InstanceError, load_instance


def _expect(path, file, fragment, value=None):
    with pytest.raises(InstanceError) as ei:
        load_instance(path)
    msgs = [str(p) for p in ei.value.problems]
    hit = [m for m in msgs if m.startswith(file) and fragment in m]
    assert hit, f"no problem in {file} mentioning {fragment!r}: {msgs}"
    if value is not None:
        assert any(repr(value) in m or str(value) in m for m in hit), msgs


def _edit_csv(folder, name, fn):
    df = pd.read_csv(folder / name, dtype=str, keep_default_na=False)
    df = fn(df)
    df.to_csv(folder / name, index=False)


def test_unknown_yaml_key(tiny_copy):
    text = (tiny_copy / "instance.yaml").read_text() + "\nhorizn: 3\n"
    (tiny_copy / "instance.yaml").write_text(text)
    _expect(tiny_copy, "instance.yaml", "unknown field", None)


def test_wrong_type_in_yaml(tiny_copy):
    text = (tiny_copy / "instance.yaml").read_text().replace("years: 3", "years: three")
    (tiny_copy / "instance.yaml").write_text(text)
    _expect(tiny_copy, "instance.yaml", "horizon.years", "three")


def test_unknown_column(tiny_copy):
    _edit_csv(tiny_copy, "programmes.csv", lambda d: d.assign(colour="red"))
    _expect(tiny_copy, "programmes.csv", "unknown column", "colour")


def test_missing_column(tiny_copy):
    _edit_csv(tiny_copy, "segments.csv", lambda d: d.drop(columns="width_gbp_m"))
    _expect(tiny_copy, "segments.csv", "required column is missing")


def test_duplicate_id(tiny_copy):
    _edit_csv(tiny_copy, "programmes.csv", lambda d: pd.concat([d, d.iloc[[0]]]))
    _expect(tiny_copy, "programmes.csv", "duplicate id", "a1")


def test_unknown_department(tiny_copy):
    def f(d):
        d.loc[0, "owners"] = "Z"
        return d
    _edit_csv(tiny_copy, "programmes.csv", f)
    _expect(tiny_copy, "programmes.csv", "row 2, field 'owners'", "Z")


def test_unknown_mission(tiny_copy):
    def f(d):
        d.loc[0, "mission"] = "happiness"
        return d
    _expect_after = _edit_csv(tiny_copy, "segments.csv", f)
    del _expect_after
    _expect(tiny_copy, "segments.csv", "unknown mission", "happiness")


def test_non_concave(tiny_copy):
    def f(d):
        d.loc[1, "gain_per_gbp_m"] = "5.0"
        return d
    _edit_csv(tiny_copy, "segments.csv", f)
    _expect(tiny_copy, "segments.csv", "non-concave", 5.0)


def test_negative_width(tiny_copy):
    def f(d):
        d.loc[0, "width_gbp_m"] = "-3"
        return d
    _edit_csv(tiny_copy, "segments.csv", f)
    _expect(tiny_copy, "segments.csv", "row 2, field 'width_gbp_m'", "-3")


def test_lag_sum_above_one(tiny_copy):
    (tiny_copy / "lags.csv").write_text("profile,lag,weight\nnow,0,0.7\nnow,1,0.6\nnext_year,1,1.0\n")
    _expect(tiny_copy, "lags.csv", "sum to more than 1", 1.3)


def test_year_off_horizon(tiny_copy):
    def f(d):
        d.loc[2, "year"] = "2031-32"
        return d
    _edit_csv(tiny_copy, "fiscal.csv", f)
    _expect(tiny_copy, "fiscal.csv", "off the horizon", "2031-32")


@pytest.mark.parametrize("bad", ["nan", "inf", "-inf"])
def test_nan_inf(tiny_copy, bad):
    def f(d):
        d.loc[0, "receipts_gbp_m"] = bad
        return d
    _edit_csv(tiny_copy, "fiscal.csv", f)
    _expect(tiny_copy, "fiscal.csv", "row 2, field 'receipts_gbp_m'", bad)


def test_malformed_year_label(tiny_copy):
    text = (tiny_copy / "instance.yaml").read_text().replace('"2026-27", years', '"2026-28", years')
    (tiny_copy / "instance.yaml").write_text(text)
    _expect(tiny_copy, "instance.yaml", "horizon.start_year", "2026-28")


def test_yaml_is_safe(tiny_copy):
    (tiny_copy / "instance.yaml").write_text("!!python/object/apply:os.system ['echo hacked']\n")
    _expect(tiny_copy, "instance.yaml", "not valid YAML")
