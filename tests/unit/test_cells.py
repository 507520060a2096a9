"""A notebook's cells meeting a layer the profile does not offer (:mod:`dataops.cells`), in a real
IPython shell: one line, the rest of the cell skipped, the notebook going on; everything else as before."""

from __future__ import annotations

import pytest
from IPython.core.interactiveshell import InteractiveShell

from dataops import cells
from dataops.errors import ConfigError, NotOfferedError
from dataops.profiles.base import Unavailable

pytestmark = pytest.mark.unit


@pytest.fixture
def shell():
    sh = InteractiveShell.instance()
    sh.ast_transformers[:] = [t for t in sh.ast_transformers if not isinstance(t, cells.CellGuard)]
    cells.guard_cells(sh)
    cells.STATE.unset.clear()
    sh.user_ns["nube"] = Unavailable("flink", "el perfil 'x' no inspecciona Flink", "usa la consola")
    yield sh
    sh.ast_transformers[:] = [t for t in sh.ast_transformers if not isinstance(t, cells.CellGuard)]


def _lines(capsys) -> list[str]:
    return [line for line in capsys.readouterr().out.splitlines() if line]


def test_the_cell_says_so_in_one_line_skips_its_rest_and_succeeds(shell, capsys):
    result = shell.run_cell("antes = 1\ntrabajos = nube.jobs()\ndespues = 2\ndespues")
    assert result.success and result.result is None
    assert _lines(capsys) == ["⏭ se omite el resto de esta celda: el perfil 'x' no inspecciona Flink: usa la consola"]
    assert shell.user_ns["antes"] == 1 and "trabajos" not in shell.user_ns and "despues" not in shell.user_ns


def test_a_later_cell_reading_a_name_never_set_is_skipped_with_the_name_and_the_reason(shell, capsys):
    shell.run_cell("respuesta = nube.jobs()")
    capsys.readouterr()
    result = shell.run_cell("print('no debe salir')\nx = len(respuesta)")
    assert result.success
    assert _lines(capsys) == ["no debe salir", "⏭ se omite esta celda: usa `respuesta`, que no existe en este perfil "
                                               "(el perfil 'x' no inspecciona Flink)"]  # fmt: skip
    shell.user_ns["comprobacion"] = lambda r: print("✔" if r else "✘")
    assert shell.run_cell("comprobacion(respuesta)").success  # a self-check of it: skipped, neither ✔ nor ✘
    assert [line[:38] for line in _lines(capsys)] == ["⏭ se omite esta celda: usa `respuesta`"]


def test_the_last_expression_is_still_what_the_cell_shows(shell, capsys):
    result = shell.run_cell("a = 20\na + 22")
    assert result.success and result.result == 42
    assert shell.run_cell("nube.jobs()").result is None
    assert len(_lines(capsys)) == 2  # 42 (Out) and the one line


@pytest.mark.parametrize("source, error", [("int('x')", ValueError), ("y = nombre_que_nadie_definio", NameError),
                                           ("raise ConfigError('mal', 'arregla')", ConfigError)])  # fmt: skip
def test_every_other_error_still_fails_the_cell(shell, source, error):
    shell.user_ns["ConfigError"] = ConfigError
    result = shell.run_cell(source)
    assert not result.success and isinstance(result.error_in_exec, error)


def test_a_definition_in_a_guarded_cell_stays_in_the_namespace(shell):
    assert shell.run_cell("def doble(x):\n    return 2 * x\nimport math\nfor i in range(3):\n    pass").success
    assert shell.user_ns["doble"](21) == 42 and shell.user_ns["math"].pi > 3 and shell.user_ns["i"] == 2


def test_outside_a_notebook_it_is_an_error_like_any_other():
    with pytest.raises(NotOfferedError) as err:
        Unavailable("connect", "el perfil 'x' no inspecciona Kafka Connect", "usa la consola").status("c")
    assert isinstance(err.value, ConfigError) and "\n" not in str(err.value)
    with pytest.raises(AttributeError):  # IPython's and pickle's probes are no use of the layer
        Unavailable("connect", "x", "y")._repr_html_


def test_connect_in_the_confluent_profile_guards_the_cells_that_follow(shell, capsys, tmp_path):
    shell.ast_transformers[:] = []
    shell.run_cell("import dataops\np = dataops.connect(profile='confluent', kafka_bootstrap='127.0.0.1:1', "
                   "kafka_api_key='k', kafka_api_secret='s', env_file=r'%s')" % (tmp_path / "none.env"))  # fmt: skip
    assert any(isinstance(t, cells.CellGuard) for t in shell.ast_transformers)
    capsys.readouterr()
    result = shell.run_cell("p.up()\nhecho = True")
    assert result.success and "hecho" not in shell.user_ns
    assert _lines(capsys) == ["⏭ se omite el resto de esta celda: el perfil 'confluent' no usa el stack local: "
                              "pon DATAOPS_PROFILE=local para ejecutar el pipeline en esta máquina"]  # fmt: skip


def test_only_the_names_the_cell_itself_would_set_are_remembered():
    import ast

    tree = ast.parse("a, b = f()\nimport os.path as q, json\ndef g(x):\n    local = x\n"
                     "class K:\n    attr = 1\nfor i in [y for y in z]:\n    c = i\nwith open(n) as h:\n    pass")  # fmt: skip
    assert cells._assigned(tree.body) == {"a", "b", "q", "json", "g", "K", "i", "c", "h"}


def test_in_a_profile_that_offers_the_whole_course_nothing_is_skipped(shell, tmp_path):
    """Locally every layer is there: a NotOfferedError would be a bug, and it fails the cell."""
    shell.ast_transformers[:] = []
    shell.run_cell("import dataops\np = dataops.connect(profile='local', env_file=r'%s')" % (tmp_path / "none.env"))
    assert not any(isinstance(t, cells.CellGuard) for t in shell.ast_transformers)
    result = shell.run_cell("nube.jobs()")
    assert not result.success and isinstance(result.error_in_exec, NotOfferedError)
