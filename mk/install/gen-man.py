#!/usr/bin/env python3
"""Man pages (section 3) from include/gr.h's own doc comments, which cbindgen copies from the
Rust sources: one page per function (`man gr_chan_send`) and per type (`man gr_config`), and
gr(3), the overview: the header's conventions, its constants and an index of the pages.

Usage: gen-man.py HEADER OUTDIR VERSION
"""

import os
import re
import sys

DOC = re.compile(r"/\*\*(.*?)\*/", re.S)
IDENT = re.compile(r"\bgr_[a-z0-9_]+\b")


def doc_text(raw):
    """The text of a /** ... */ comment, one string per paragraph."""
    lines = [re.sub(r"^\s*\* ?", "", line).rstrip() for line in raw.strip("\n").split("\n")]
    paras, cur = [], []
    for line in lines:
        if line.strip():
            cur.append(line.strip())
        elif cur:
            paras.append(" ".join(cur))
            cur = []
    if cur:
        paras.append(" ".join(cur))
    return paras


def esc(text):
    """Escapes roff's specials in running text."""
    return text.replace("\\", "\\e").replace("-", "\\-")


def inline(text, params=()):
    """`code` becomes bold, or italic for the function's own parameters."""
    out = []
    for i, part in enumerate(text.split("`")):
        if i % 2 == 0:
            out.append(esc(part))
        elif part in params:
            out.append("\\fI" + esc(part) + "\\fR")
        else:
            out.append("\\fB" + esc(part) + "\\fR")
    line = "".join(out)
    return "\\&" + line if line[:1] in ".'" else line


def first_sentence(paras):
    """The summary for NAME: the doc's first clause outside parentheses."""
    text, depth = (paras[0] if paras else ""), 0
    for i, c in enumerate(text):
        depth += (c == "(") - (c == ")")
        if depth == 0 and c in ".:;" and (i + 1 == len(text) or text[i + 1] == " "):
            text = text[:i]
            break
    return esc(text.replace("`", ""))


def parse(header):
    """Yields (kind, name, doc paragraphs, declaration) for each documented item; the docs of
    struct fields and enumerators stay inside their type's declaration."""
    pos = 0
    while True:
        m = DOC.search(header, pos)
        if not m:
            return
        paras = doc_text(m.group(1))
        at = m.end() + len(header[m.end():]) - len(header[m.end():].lstrip())
        rest = header[at:]
        if rest.startswith("#define"):
            decl = rest.split("\n", 1)[0]
            kind, name = "define", decl.split()[1]
        else:
            end = rest.index(";")
            if rest.startswith("typedef") and "{" in rest[:end]:
                end = rest.index(";", rest.index("}"))
            decl = rest[: end + 1]
            if rest.startswith("typedef"):
                m2 = re.search(r"\(\*(\w+)\)", decl) or re.search(r"(\w+);$", decl)
                kind, name = "type", m2.group(1)
            else:
                m2 = re.search(r"(gr_\w+)\s*\(", decl)
                kind, name = ("func", m2.group(1)) if m2 else (None, None)
        pos = at + len(decl)
        if kind == "func":
            decl = " ".join(decl.split())
        if kind:
            yield kind, name, paras, decl


def split_members(decl):
    """A struct/enum declaration without its members' doc comments, and (member, doc) pairs."""
    lines, members, doc, pending = [], [], None, None
    for line in decl.split("\n"):
        t = line.strip()
        if doc is not None:
            if t.endswith("*/"):
                pending, doc = " ".join(doc_text("\n".join(doc))), None
            else:
                doc.append(line)
        elif t.startswith("/**"):
            if t.endswith("*/"):
                pending = " ".join(doc_text(t[3:-2]))
            else:
                doc = []
        elif t:
            lines.append(line.rstrip())
            if pending:
                members.append((t.rstrip(",;"), pending))
            pending = None
    return lines, members


def params_of(decl):
    """The parameter names of a function declaration."""
    inner = decl[decl.index("(") + 1: decl.rindex(")")]
    names = []
    for p in inner.split(","):
        m = re.search(r"(\w+)\s*$", p.strip())
        if m and m.group(1) != "void":
            names.append(m.group(1))
    return names


def synopsis_func(decl, params):
    """.BI line: the types bold, the parameter names italic."""
    head, inner = decl[: decl.index("(") + 1], decl[decl.index("(") + 1: decl.rindex(")")]
    parts = [p.strip() for p in inner.split(",")] if inner.strip() else []
    segs = ['"' + head]
    for i, p in enumerate(parts):
        m = re.search(r"(\w+)\s*$", p)
        sep = "" if i == len(parts) - 1 else ", "
        if m and m.group(1) in params:
            typ = p[: m.start()]
            segs[-1] += typ + '"'
            segs.append(m.group(1))
            segs.append('"' + sep)
        else:
            segs[-1] += p + sep
    segs[-1] += ');"'
    return ".BI " + " ".join(s.replace("-", "\\-") for s in segs)


def page(name, version, summary, sections):
    """A man(7) page: its title, NAME line and (title, lines) sections."""
    out = [
        f'.\\" Generated by mk/install/gen-man.py from include/gr.h: do not edit.',
        f'.TH {name.upper()} 3 "" "gr {version}" "gr Library Functions"',
        ".SH NAME",
        f"{esc(name)} \\- {summary}",
    ]
    for title, body in sections:
        out.append(".SH " + title)
        out.extend(body)
    return "\n".join(out) + "\n"


def see_also(names, all_pages, self_name):
    """gr(3), then the pages of `names` other than this one."""
    refs = sorted(n for n in set(names) if n in all_pages and n != self_name)
    refs = ["gr"] + refs
    return [",\n".join(f".BR {esc(n)} (3)" for n in refs)]


def main():
    header_path, outdir, version = sys.argv[1:4]
    header = open(header_path).read()
    items = list(parse(header))
    funcs = [i for i in items if i[0] == "func"]
    types = [i for i in items if i[0] == "type"]
    defines = [i for i in items if i[0] == "define"]
    all_pages = {i[1] for i in funcs + types}
    os.makedirs(outdir, exist_ok=True)
    written = []

    def family(name):
        """gr_chan_send's family: the other gr_chan_* functions."""
        return [f[1] for f in funcs if f[1].split("_")[1] == name.split("_")[1]]

    for _, name, paras, decl in funcs:
        params = params_of(decl)
        body = [".PP\n" + inline(p, params) for p in paras]
        mentioned = IDENT.findall(" ".join(paras))
        ret = decl.split(name)[0].strip()
        sections = [
            ("SYNOPSIS", [".nf", ".B #include <gr.h>", ".PP", synopsis_func(decl, params), ".fi"]),
            ("DESCRIPTION", body),
        ]
        if ret == "int":
            sections.append(("RETURN VALUE", [
                "Unless described above, \\fBGR_OK\\fR (0) on success and a negative "
                "\\fBGR_E*\\fR status on failure; see \\fBgr_status\\fR(3), and "
                "\\fBgr_strerror\\fR(3) for its text. Outputs are written only on success."]))
        sections.append(("SEE ALSO", see_also(mentioned + family(name) + ["gr_status"] * (ret == "int"),
                                             all_pages, name)))
        written.append((name, page(name, version, first_sentence(paras), sections)))

    for _, name, paras, decl in types:
        body = [".PP\n" + inline(p) for p in paras]
        lines, members = split_members(decl)
        mentioned = IDENT.findall(" ".join(paras) + decl)
        sections = [
            ("SYNOPSIS", [".nf", ".B #include <gr.h>", ".PP"] + [esc(l) for l in lines] + [".fi"]),
            ("DESCRIPTION", body),
        ]
        if members:
            title = "VALUES" if decl.startswith("typedef enum") else "FIELDS"
            sections.append((title, [f".TP\n.B {esc(m)}\n{inline(d)}" for m, d in members]))
        sections.append(("SEE ALSO", see_also(mentioned, all_pages, name)))
        written.append((name, page(name, version, first_sentence(paras), sections)))

    # gr(3): the header's own preamble (its conventions), the constants, the index.
    preamble = re.match(r"/\*(.*?)\*/", header, re.S).group(1)
    pre = [re.sub(r"^ \* ?", "", l) for l in preamble.strip("\n").split("\n")]
    conv = []
    for line in pre[next(i for i, l in enumerate(pre) if l.strip() == "Conventions") + 1:]:
        if not line.strip():
            continue
        if line.startswith(" - "):
            conv.append(".IP \\(bu 2\n" + inline(line[3:].strip()))
        elif line.startswith("   "):
            conv.append(inline(line.strip()))
        else:
            conv.append(".PP\n" + inline(line.strip()))
    macros = re.findall(r"^#define (GR_VERSION_\w+|GR_FOREVER) (.*)$", header, re.M)
    consts = [f".TP\n.B {esc(n)}\n{esc(v)}" for n, v in macros]
    consts += [f".TP\n.BR {esc(n)} \" ({esc(d.split(None, 2)[2])})\"\n" + " ".join(inline(p) for p in paras)
               for _, n, paras, d in defines]
    index = [f".TP\n.BR {esc(n)} (3)\n{first_sentence(p)}." for _, n, p, _ in funcs + types]
    summary = "goroutines, channels, select, WaitGroup, Mutex and timers for C"
    written.append(("gr", page("gr", version, summary, [
        ("SYNOPSIS", [".nf", ".B #include <gr.h>", ".fi", ".PP",
                      "Link with \\fB\\-lgr\\fR (\\fBpkg\\-config \\-\\-libs gr\\fR), or statically with "
                      "\\fBpkg\\-config \\-\\-libs gr\\-static\\fR; CMake: "
                      "\\fBfind_package(gr CONFIG REQUIRED)\\fR and the targets \\fBgr::gr\\fR or "
                      "\\fBgr::gr_static\\fR."]),
        ("DESCRIPTION", [".PP", "gr multiplexes goroutines M:N on a configurable number of worker "
                         "threads, behind one C ABI (\\fBlibgr.so.0\\fR). Conventions:"] + conv),
        ("CONSTANTS", consts),
        ("FUNCTIONS AND TYPES", index),
    ])))
    for name, text in written:
        with open(os.path.join(outdir, name + ".3"), "w") as f:
            f.write(text)
    print(f"gen-man.py: {len(written)} pages in {outdir}")


if __name__ == "__main__":
    main()
