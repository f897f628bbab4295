"""The one value model (engine/values.py): a value has a shape (() for a scalar) whichever back
end holds it, and every layer above the engine asks these functions instead of the storage."""

from __future__ import annotations

import json
import math

import numpy
import pytest

from backtrace_cli.engine.backends import FLOAT64, numpy_backend
from backtrace_cli.engine.tape import compile_program
from backtrace_cli.engine.values import (
    all_finite,
    as_float64,
    as_number_or_array,
    backend_for,
    engine_shapes,
    from_plain,
    holds_arrays,
    json_text,
    json_writer,
    numeric_setting,
    shape_of,
    to_plain,
    to_plain_or_same,
    with_shape,
)
from backtrace_cli.syntax.parser import parse

SCALARS = (2.5, numpy.float64(2.5), numpy.float32(2.5), numpy.array(2.5))


@pytest.mark.parametrize("value", SCALARS)
def test_a_scalar_in_any_back_end_has_shape_nothing_and_is_plain_float(value):
    assert shape_of(value) == ()
    assert to_plain(value) == 2.5 and type(to_plain(value)) is float
    assert as_float64(value) == 2.5 and type(as_float64(value)) is float
    assert as_number_or_array(value) == 2.5 and type(as_number_or_array(value)) is float
    assert json_text(value) == "2.5"
    assert json_writer(True)(value) == json_writer(False)(value) == "2.5"


def test_an_array_keeps_its_shape_and_becomes_nested_lists():
    value = numpy.array([[1.0, 0.1], [-2.0, 3e-300]], dtype=numpy.float32)
    assert shape_of(value) == (2, 2)
    assert to_plain(value) == value.tolist()
    copy = as_float64(value)
    assert copy.dtype == numpy.float64 and copy.tolist() == value.astype(numpy.float64).tolist()
    copy[0, 0] = 9.0
    assert value[0, 0] == 1.0  # a copy, not a view
    assert as_number_or_array(value) is value
    assert json.loads(json_text(value)) == value.tolist()
    assert " " not in json_text(value)  # compact, as the rest of grad's document


def test_json_text_is_the_shortest_round_trip_of_a_float():
    for number in (0.1, 1 / 3, -0.0, 1e-300, 6.0, 5024999791.668751):
        assert float(json_text(number)) == number
        assert json_text(number) == repr(number)
        assert json_writer(True)(number) == repr(number)
    assert json_text(numpy.array([0.1, 1 / 3])) == f"[{0.1!r},{1 / 3!r}]"
    assert json_writer(True)(5) == "5.0"  # an int from the API is written as a float


def test_finiteness_of_numbers_and_every_element():
    assert all_finite(1.0) and all_finite(numpy.float32(3.0))
    assert not all_finite(math.inf) and not all_finite(float("nan"))
    assert all_finite(numpy.array([1.0, 2.0]))
    assert not all_finite(numpy.array([1.0, numpy.nan]))
    assert not all_finite(numpy.array([[1.0], [-numpy.inf]]))


def test_plain_data_round_trips():
    assert from_plain([[1, 2], [3, 4]]).tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert from_plain([[1, 2], [3, 4]]).dtype == numpy.float64
    assert from_plain(3) == 3.0 and type(from_plain(3)) is float
    array = numpy.array([0.5, -1.5])
    assert to_plain(from_plain(to_plain(array))) == [0.5, -1.5]
    # Anything that is not a number or an array passes through as it is.
    assert to_plain_or_same(None) is None
    assert to_plain_or_same([1, 2]) == [1, 2]
    assert to_plain_or_same(numpy.float32(0.5)) == 0.5
    assert to_plain_or_same(array) == [0.5, -1.5]


def test_with_shape_spreads_a_scalar_and_keeps_a_fitting_value():
    same = numpy.array([1.0, 2.0])
    assert with_shape(same, (2,)) is same
    assert with_shape(0.0, (2, 3)).tolist() == [[0.0] * 3] * 2
    assert with_shape(2.0, ()) == 2.0


def test_shapes_say_whether_a_program_holds_arrays():
    assert not holds_arrays([(), (), ()])
    assert not holds_arrays([]) and not holds_arrays(None)
    assert holds_arrays([(), (2,), ()])
    assert engine_shapes([(), ()]) is None
    shapes = [(), (3,)]
    assert engine_shapes(shapes) is shapes
    assert backend_for([(), ()]) is FLOAT64
    assert backend_for(shapes) is numpy_backend("float64")


def test_numeric_setting_gives_shapes_for_every_program():
    tape = compile_program(parse("x*w + 1"))
    bindings, shapes, m = numeric_setting(tape, {"x": 2.0, "w": 3.0})
    assert shapes == [()] * len(tape.nodes)  # never None: () for every scalar
    assert m is FLOAT64 and bindings == {"x": 2.0, "w": 3.0}
    bindings, shapes, m = numeric_setting(tape, {"x": numpy.array([1.0, 2.0]), "w": 3.0})
    assert m is numpy_backend("float64")
    assert shapes[tape.variable_nodes["x"]] == (2,) and shapes[tape.output] == (2,)
    assert bindings["x"].dtype == numpy.float64 and bindings["x"].tolist() == [1.0, 2.0]
    assert shape_of(bindings["w"]) == ()
