import pytest

from statuspage.csv_export import neutralise, restore, to_csv


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=2+5@example.com", "'=2+5@example.com"),
        ("+1 555", "'+1 555"),
        ("-cmd", "'-cmd"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("ok@example.test", "ok@example.test"),
        ("", ""),
        (-5, -5),
        (20.0, 20.0),
    ],
)
def test_cells_that_would_start_a_formula_get_a_quote(value, written):
    assert neutralise(value) == written


def test_restore_undoes_only_our_quote():
    assert restore("'=2+5@example.com") == "=2+5@example.com"
    assert restore("'quoted") == "'quoted"


def test_to_csv_neutralises_every_cell():
    assert to_csv(["a", "b"], [["=1+1", 3], ["x", "@y"]]) == "a,b\r\n'=1+1,3\r\nx,'@y\r\n"
