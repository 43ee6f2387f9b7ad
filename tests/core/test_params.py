"""The declaration layer on its own: what a declared endpoint's arguments become, and the
messages a caller gets when they do not fit."""

from __future__ import annotations

from typing import Annotated

import msgspec
import pytest
from msgspec import Meta

from gateway.errors import InvalidParams
from gateway.params import COMMA, Params, ParamSpec, decode_query_values, hinted, too_deep
from gateway.registry import DuplicateEndpoint, DuplicateRoute, Registry
from gateway.transports.body import body_arguments


class Args(Params):
    name: str
    count: Annotated[int, Meta(ge=1, le=100)] = 5
    flag: bool = False
    items: list[str] = []
    scale: float = 1.0
    extra: dict[str, int] | None = None
    job_name: str | None = msgspec.field(default=None, name="jobName")


SPEC = ParamSpec(Args)


def convert(args: dict[str, object]) -> Args:
    # as the HTTP door converts query strings and forms
    value = SPEC.convert(args, loosen=True)
    assert isinstance(value, Args)
    return value


def error(args: dict[str, object]) -> str:
    with pytest.raises(InvalidParams) as err:
        SPEC.convert(args, loosen=True)
    assert err.value.status == 400 and err.value.rpc_code == -32602
    return err.value.message


def test_http_strings_become_the_declared_types() -> None:
    value = convert({"name": "a", "count": "7", "flag": "true", "items": "x, y,,z",
                     "scale": "2.5", "extra": '{"k": 3}', "jobName": "J"})
    assert value == Args(name="a", count=7, flag=True, items=["x", "y", "z"], scale=2.5,
                         extra={"k": 3}, job_name="J")


@pytest.mark.parametrize(("word", "expected"), [
    ("true", True), ("True", True), ("1", True), ("yes", True), ("on", True),
    ("false", False), ("0", False), ("no", False), ("OFF", False),
])
def test_boolean_words(word: str, expected: bool) -> None:
    assert convert({"name": "a", "flag": word}).flag is expected


def test_json_values_are_not_reinterpreted() -> None:
    # a JSON body or JSON-RPC params: a text is no object or boolean word...
    with pytest.raises(InvalidParams, match=r"\[extra\]"):
        SPEC.convert({"name": "a", "extra": '{"k": 1}'})
    with pytest.raises(InvalidParams, match=r"\[flag\]"):
        SPEC.convert({"name": "a", "flag": "yes"})
    assert SPEC.convert({"name": "a", "count": "7"}).count == 7  # msgspec's lax numbers
    with pytest.raises(InvalidParams, match=r"\[items\]"):
        SPEC.convert({"name": "a", "items": "x, y"})


def test_a_comma_list_may_be_one_text_in_json_too() -> None:
    # Moonraker's get_list, declared: Annotated[list[str], COMMA]
    class Queue(Params):
        filenames: Annotated[list[str], Meta(max_length=5), COMMA]

    spec = ParamSpec(Queue)
    assert spec.convert({"filenames": "a.gcode, b.gcode"}).filenames == ["a.gcode", "b.gcode"]
    assert spec.convert({"filenames": ["a,b"]}).filenames == ["a,b"]
    with pytest.raises(InvalidParams):
        spec.convert({"filenames": "a,b,c,d,e,f"})


def test_json_values_pass_as_they_are() -> None:
    value = convert({"name": "a", "count": 3, "flag": True, "items": ["p"], "scale": 2})
    assert (value.count, value.flag, value.items, value.scale) == (3, True, ["p"], 2.0)


def test_defaults_fill_what_is_absent_and_unknown_names_are_ignored() -> None:
    assert convert({"name": "a", "whatever": [1]}) == Args(name="a")


def test_missing_argument_is_named() -> None:
    assert error({}) == "No data for argument: name"


@pytest.mark.parametrize(("args", "message"), [
    ({"name": None}, "Invalid argument [name]: expected `str`, got `null`"),
    ({"name": 5}, "Invalid argument [name]: expected `str`, got `int`"),
    ({"name": "a", "count": "abc"}, "Invalid argument [count]: expected `int`, got `str`"),
    ({"name": "a", "count": True}, "Invalid argument [count]: expected `int`, got `bool`"),
    ({"name": "a", "count": 0}, "Invalid argument [count]: expected `int` >= 1"),
    ({"name": "a", "count": 10**30}, "Invalid argument [count]: expected `int` <= 100"),
    ({"name": "a", "flag": "maybe"}, "Invalid argument [flag]: expected `bool`, got `str`"),
    ({"name": "a", "items": [1]}, "Invalid argument [items[0]]: expected `str`, got `int`"),
    ({"name": "a", "items": {"x": 1}}, "Invalid argument [items]: expected `array`, got `object`"),
    ({"name": "a", "extra": {"k": "x"}},
     "Invalid argument [extra[...]]: expected `int`, got `str`"),
    ({"name": "a", "extra": "{nope"}, "Invalid argument [extra]: expected `object | null`, "
                                      "got `str`"),
])
def test_wrong_types_name_the_argument_and_what_was_expected(
    args: dict[str, object], message: str
) -> None:
    assert error(args) == message


@pytest.mark.parametrize("value", ["nan", "inf", "-Infinity", float("nan"), float("inf")])
def test_floats_must_be_finite(value: object) -> None:
    assert error({"name": "a", "scale": value}) == (
        "Invalid argument [scale]: expected a finite number")


def test_query_type_hints() -> None:
    assert hinted("count:int", "5") == ("count", 5)
    assert hinted("x:float", "1.5") == ("x", 1.5)
    assert hinted("b:bool", "False") == ("b", False)
    assert hinted("j:json", '{"a": [1]}') == ("j", {"a": [1]})
    assert hinted("plain", "text") == ("plain", "text")
    for name, value in (("c:int", "x"), ("f:float", "inf"), ("f:float", "nan"),
                        ("b:bool", "maybe"), ("j:json", "{"), ("j:json", "[" * 5000)):
        with pytest.raises(InvalidParams):
            hinted(name, value)
    with pytest.raises(InvalidParams, match="Unknown type hint 'date'"):
        hinted("d:date", "x")


def test_query_values_last_wins_and_hints_apply() -> None:
    assert decode_query_values({"a": [b"1", b"2"], "n:int": [b"3"], "e": []}) == {
        "a": "2", "n": 3, "e": ""}


def test_bodies_json_form_multipart() -> None:
    assert body_arguments("application/json", b'{"a": 1}') == {"a": 1}
    assert body_arguments("", b'{"a": 1}') == {"a": 1}
    assert body_arguments("application/x-www-form-urlencoded", b"a=1&b:int=2") == {
        "a": "1", "b": 2}
    multipart = (b"--XX\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nhello\r\n"
                 b"--XX\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x.g\"\r\n"
                 b"\r\nG28\r\n--XX--\r\n")
    assert body_arguments("multipart/form-data; boundary=XX", multipart) == {"a": "hello"}
    assert body_arguments("text/plain", b"") == {}


@pytest.mark.parametrize(("content_type", "body", "status", "words"), [
    ("application/json", b"{nope", 400, "invalid JSON"),
    ("application/json", b"[1, 2]", 400, "expected a JSON object"),
    ("application/json", b'{"a": "\xff"}', 400, "invalid JSON"),
    ("application/json", b'{"a":' + b"[" * 100 + b"]" * 100 + b"}", 400, "nested deeper"),
    ("application/json", b"[" * 100000, 400, "nested deeper"),
    ("multipart/form-data", b"--x\r\n", 400, "boundary"),
    ("multipart/form-data; boundary=XX", b"--XX\r\nbroken", 400, "form body"),
    ("text/plain", b"G28", 415, "Unsupported Content-Type 'text/plain'"),
    ("application/xml", b"<a/>", 415, "Unsupported"),
])
def test_bad_bodies_are_the_callers_error(
    content_type: str, body: bytes, status: int, words: str
) -> None:
    with pytest.raises(InvalidParams.__mro__[1]) as err:  # ServerError
        body_arguments(content_type, body)
    assert err.value.status == status  # type: ignore[attr-defined]
    assert words in err.value.message  # type: ignore[attr-defined]


def test_octoprint_bodies_must_be_json() -> None:
    with pytest.raises(Exception, match="expected application/json") as err:
        body_arguments("application/x-www-form-urlencoded", b"a=1", json_only=True)
    assert err.value.status == 415  # type: ignore[attr-defined]


def test_nesting_depth() -> None:
    assert not too_deep([[[1]]], 3)
    assert too_deep([[[[1]]]], 3)
    assert too_deep({"a": {"b": {"c": {}}}}, 3)


def test_declarations_are_structs_tagged_unions_or_dicts() -> None:
    for wrong in (int, list[str], str | int):
        with pytest.raises(TypeError):
            ParamSpec(wrong)
    assert ParamSpec(dict[str, int]).convert({"a": "1"}, loosen=True) == {"a": 1}


def test_the_same_name_or_route_twice_is_refused() -> None:
    reg = Registry()
    reg.register("a.b", lambda r: 1, http="GET /a/b")
    with pytest.raises(DuplicateEndpoint):
        reg.register("a.b", lambda r: 2)
    with pytest.raises(DuplicateRoute, match=r"GET /a/b is already served by a\.b"):
        reg.register("a.c", lambda r: 2, http="GET /a/b")
    reg.register("a.d", lambda r: 2, http="POST /a/b")
    reg.register("a.e", lambda r: 2, http="GET /x/{name}")
    with pytest.raises(DuplicateRoute):
        reg.register("a.f", lambda r: 2, http="GET /x/{name}")
    # the refused rows left nothing behind
    assert "a.c" not in reg.endpoints and "a.f" not in reg.endpoints


def test_path_patterns_and_decoded_arguments() -> None:
    reg = Registry()
    reg.register("p.file", lambda r: 1, http="GET /f/{origin:local|sdcard}/{path:.+}")
    found = reg.lookup_http("/f/local/a%20b/c%2Fd.gcode")
    assert found is not None
    assert found[1] == {"origin": "local", "path": "a b/c/d.gcode"}
    assert reg.lookup_http("/f/usb/x") is None


def test_unknown_verbs_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown HTTP verb"):
        Registry().register("v.x", lambda r: 1, http="FETCH /v")
