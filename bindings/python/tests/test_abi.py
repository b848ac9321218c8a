"""The binding's hand-copied C ABI (src/gr.rs) against the header (include/gr.h).

src/gr.rs declares the part of gr.h the binding uses. These tests fail when the two drift:
a constant, a struct field or a function signature that gr.rs declares differs from the
header, or a gr_status code of the header is missing from gr.rs (and from errors.rs, which
maps each code to its exception). A code added to the header is so picked up here without
touching this file. Pure source checks: nothing is built or imported.
"""

import pathlib
import re

import pytest

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[2]
GR_H = ROOT / "include" / "gr.h"
GR_RS = HERE.parent / "src" / "gr.rs"
ERRORS_RS = HERE.parent / "src" / "errors.rs"

C_BASE = {
    "int": "c_int", "int64_t": "i64", "uint64_t": "u64", "uint32_t": "u32", "size_t": "usize",
    "char": "c_char", "void": "c_void",
}


# ---------------------------------------------------------------------------------------------
# The header.

def _strip_c_comments(s):
    return re.sub(r"/\*.*?\*/", "", s, flags=re.S)


def _int(expr):
    """The integer value of a #define or enumerator expression such as 2 or ((int64_t)-1)."""
    return int(re.findall(r"-?\d+", expr)[-1])


def c_type(decl, enums):
    """Canonical type of a C declaration without its name: 'const struct gr_chan *' ->
    '*const gr_chan'. Enums are ints in the binding."""
    decl = decl.replace("struct ", "").replace("enum ", "").strip()
    stars = decl.count("*")
    base = decl.replace("*", " ").split()
    const = "const" in base
    base = [w for w in base if w != "const"]
    assert len(base) == 1, decl
    name = base[0]
    name = "c_int" if name in enums else C_BASE.get(name, name)
    if stars == 0:
        return "()" if name == "c_void" else name
    # Only the innermost pointer can be const in gr.h ('const T *', never 'T *const').
    out = ("*const " if const else "*mut ") + name
    for _ in range(stars - 1):
        out = "*mut " + out
    return out


def c_params(params, enums):
    params = " ".join(params.split())
    if params in ("", "void"):
        return []
    out = []
    for p in params.split(","):
        m = re.match(r"(.*?)(\w+)\s*$", p.strip())
        out.append((m.group(2), c_type(m.group(1), enums)))
    return out


def parse_header():
    h = _strip_c_comments(GR_H.read_text())
    consts = {name: _int(v) for name, v in re.findall(r"#define\s+(GR_\w+)\s+(.+)", h) if re.search(r"\d", v)}
    enums, statuses = set(), {}
    for name, body in re.findall(r"typedef enum (\w+) \{(.*?)\} \1;", h, flags=re.S):
        enums.add(name)
        for k, v in re.findall(r"(GR_\w+)\s*=\s*(-?\d+)", body):
            consts[k] = int(v)
            if name == "gr_status":
                statuses[k] = int(v)
    structs = {}
    for name, body in re.findall(r"typedef struct (\w+) \{(.*?)\} \1;", h, flags=re.S):
        fields = []
        for f in body.split(";"):
            if f.strip():
                arr = re.match(r"(.*?)(\w+)\s*\[(\w+)\]\s*$", f.strip(), flags=re.S)
                if arr:  # `T name[N]`: Rust's `[T; N]`
                    fields.append((arr.group(2), f"[{c_type(arr.group(1), enums)}; {arr.group(3)}]"))
                    continue
                m = re.match(r"(.*?)(\w+)\s*$", f.strip(), flags=re.S)
                fields.append((m.group(2), c_type(m.group(1), enums)))
        structs[name] = fields
    opaque = set(re.findall(r"typedef struct (\w+) \1;", h))
    fnptrs = {name: (c_type(ret, enums), [t for _, t in c_params(params, enums)])
              for ret, name, params in re.findall(r"typedef (\w[\w ]*?)\s*\(\*(\w+)\)\((.*?)\);", h, flags=re.S)}
    funcs = {}
    for ret, name, params in re.findall(r"^([\w][\w \*]*?[\s\*])(gr_\w+)\((.*?)\);", h, flags=re.S | re.M):
        funcs[name] = (c_type(ret, enums), [t for _, t in c_params(params.replace("\n", " "), enums)])
    return dict(consts=consts, statuses=statuses, structs=structs, opaque=opaque, fnptrs=fnptrs, funcs=funcs)


# ---------------------------------------------------------------------------------------------
# The binding's declarations.

def rust_type(t):
    """Canonical form of a Rust type: no 'std::ffi::', Option<fn> is the nullable fn."""
    t = t.strip().replace("std::ffi::", "")
    m = re.fullmatch(r"Option<(.*)>", t)
    if m:
        t = m.group(1).strip()
    return re.sub(r"\s+", " ", t)


def rust_params(params):
    out = []
    for p in params.split(","):
        if p.strip():
            name, ty = p.split(":", 1)
            out.append((name.strip(), rust_type(ty)))
    return out


def parse_rust():
    src = re.sub(r"//[^\n]*", "", GR_RS.read_text())
    consts = {n: int(v.replace("_", "")) for n, v in re.findall(r"pub const (\w+):\s*\w+\s*=\s*(-?[\d_]+);", src)}
    structs, opaque = {}, set()
    for name, body in re.findall(r"pub struct (\w+)\s*\{(.*?)\}", src, flags=re.S):
        fields = re.findall(r"pub (\w+):\s*([^,]+),", body)
        if fields:
            structs[name] = [(n, rust_type(t)) for n, t in fields]
        else:
            opaque.add(name)
    fnptrs = {}
    for name, params, ret in re.findall(r"pub type (\w+) = unsafe extern \"C\" fn\((.*?)\)(?:\s*->\s*([^;]+))?;", src):
        fnptrs[name] = (rust_type(ret) if ret else "()", [t for _, t in rust_params(params)])
    block = re.search(r'extern "C" \{(.*)\}', src, flags=re.S).group(1)
    funcs = {}
    for name, params, ret in re.findall(r"pub fn (\w+)\((.*?)\)(?:\s*->\s*([^;]+))?;", block, flags=re.S):
        funcs[name] = (rust_type(ret) if ret else "()", [t for _, t in rust_params(params.replace("\n", " "))])
    return dict(consts=consts, structs=structs, opaque=opaque, fnptrs=fnptrs, funcs=funcs)


@pytest.fixture(scope="module")
def header():
    return parse_header()


@pytest.fixture(scope="module")
def rust():
    return parse_rust()


def test_the_parsers_see_the_abi(header, rust):
    # Guards against a parser that silently finds nothing.
    assert {"gr_chan_send", "gr_select", "gr_spawn_ex", "gr_stats_get"} <= set(header["funcs"])
    assert {"gr_config", "gr_case", "gr_stats", "gr_spawn_opts"} <= set(header["structs"])
    assert header["statuses"]["GR_OK"] == 0 and len(header["statuses"]) >= 9
    assert len(rust["funcs"]) >= 30 and "gr_case" in rust["structs"] and "gr_chan" in rust["opaque"]


def test_every_status_code_is_declared_and_mapped(header, rust):
    errors_rs = ERRORS_RS.read_text()
    for name, value in header["statuses"].items():
        assert rust["consts"].get(name) == value, f"gr.rs: {name} should be {value} (gr.h)"
        if name != "GR_OK":
            assert f"gr::{name} =>" in errors_rs, f"errors.rs: raise_status does not map {name}"


def test_constants_match(header, rust):
    for name, value in rust["consts"].items():
        assert name in header["consts"], f"gr.rs declares {name}, which gr.h does not"
        assert header["consts"][name] == value, f"{name}: gr.rs {value}, gr.h {header['consts'][name]}"


def test_structs_match(header, rust):
    for name, fields in rust["structs"].items():
        assert fields == header["structs"].get(name), f"struct {name}: gr.rs {fields}, gr.h {header['structs'].get(name)}"
    for name in rust["opaque"]:
        assert name in header["opaque"], f"gr.rs declares opaque {name}, which gr.h does not"


def test_function_types_match(header, rust):
    for name, sig in rust["fnptrs"].items():
        assert sig == header["fnptrs"].get(name), f"{name}: gr.rs {sig}, gr.h {header['fnptrs'].get(name)}"


def test_functions_match(header, rust):
    for name, sig in rust["funcs"].items():
        assert name in header["funcs"], f"gr.rs declares {name}, which gr.h does not"
        assert sig == header["funcs"][name], f"{name}: gr.rs {sig}, gr.h {header['funcs'][name]}"
