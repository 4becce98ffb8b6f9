#!/usr/bin/env python3
"""The layer check of `make check` (DESIGN.md §9, issue 10).

Static archives alone do not catch a wrong include (there is one include directory, src/, and
symbols resolve late), so this script reads every `#include` of the C sources and fails when

  1. a file includes a header of a module that is not in its module's allowed set (ALLOWED);
  2. a file in src/ includes another module's internal header (`*-int.h`, `*-internal.h`);
  3. the modules' include graph, as the files really include each other, has a cycle;
  4. a piece of state with one owner (OWNED) is named in a file of src/ other than its
     owner's (an agent's free, used and total resources belong to the ledger).

A file's module: src/<module>/... is <module>; a file directly in src/ (src/main.c) is `main`;
tests/... is `tests`, bench/... is `bench`. A module that is not in ALLOWED is an error, so a
new module is added to the table before its first file is.

Usage: check-layers.py [--root DIR]    check the tree at DIR (default: this script's ../)
       check-layers.py --self-test     check the checker on small trees in a temp dir
Exit status 0 when the tree keeps the rules, 1 when it does not, 2 on a usage error.
"""
import os
import re
import sys

ANY = None  # may use every module

# The allowed edges, in one place: module -> the modules whose headers it may include. Each
# set is closed downwards (a module may use what the modules it uses may use); --self-test
# checks that, and that the table has no cycle.
_MASTER = {"base", "json", "net", "store", "model", "pb"}
_FRAMEWORK = _MASTER | {"master"}  # frameworks and services on the resource manager
ALLOWED = {
    "base": set(),                          # logging, memory, strings, hash map: no deps
    "json": {"base"},
    "net": {"base"},                        # uses jansson directly, not json/ (today's code)
    "store": {"base"},
    "model": {"base", "json"},              # pure: resources, attributes, app/task specs
    "pb": {"base", "json"},                 # protobuf <-> JSON for the v1 scheduler API
    # berth-executor, the per-task shim, is plain libc: it links no berth library, and compiles
    # base/fsutil.c (mkdir -p, libc only) into itself; any other base header it included
    # would fail to link.
    "executor": {"base"},
    # berth-image (the image store, OCI bundles): a program of its own, run by the shim and
    # the CLI; it reads the shim's spec file (exec-spec.h).
    "image": {"base", "executor"},
    "volplugin": {"base", "json", "net"},   # the built-in `local` volume driver
    # The agent writes the files the shim reads and reads those the shim writes: it links
    # src/executor's exec-spec.c, exec-status.c, exec-health.c, exec-volume.c, exec-prestop.c
    # and exec-lease.c and includes their headers (the shared file formats). It speaks the
    # volume plugin protocol to volplugin over a socket and never includes it.
    "agent": {"base", "json", "net", "model", "executor"},
    "lb": {"base", "json", "net", "model"},
    "cli": {"base", "json", "net", "model"},
    "master": _MASTER,                      # the resource manager
    "apps": _FRAMEWORK,                     # the apps framework (Marathon)
    "jobs": _FRAMEWORK,                     # the jobs framework (Chronos)
    "dns": _FRAMEWORK,
    "auth": _FRAMEWORK,
    "ui": _FRAMEWORK,
    # The master process's wiring: route table, event bus, start-up.
    "server": _FRAMEWORK | {"apps", "jobs", "dns", "auth", "ui"},
    "main": ANY,                            # src/main.c: subcommand dispatch
    # Tests and benchmarks may include any module's headers, internal ones too (a unit test
    # tests a module from the inside); nothing in src/ includes them.
    "tests": ANY,
    "bench": ANY,
}
# Where a module may use another only through some of its headers: (user, used) -> those
# headers. A framework reaches the resource manager through master/rm.h alone; the server
# also through master/master.h (its life cycle and HTTP handlers).
THROUGH = {
    ("apps", "master"): {"src/master/rm.h"},
    ("jobs", "master"): {"src/master/rm.h"},
    ("dns", "master"): {"src/master/rm.h"},
    ("server", "master"): {"src/master/rm.h", "src/master/master.h"},
}

# State with one owner: a pattern of its use -> the files of src/ that may name it (others
# go through the owner's functions). tests/ and bench/ may look.
OWNED = {
    # struct m_agent's resource sets: written by the ledger only, read through the
    # rm_agent_free / rm_agent_used / rm_agent_total accessors of master/rm.h.
    r"\bled\.(total|used|free)\b": {"src/master/ledger.c", "src/master/rm.h"},
}

# Top-level modules whose files may include other modules' internal headers.
MAY_INCLUDE_INTERNAL = {"tests", "bench"}
INTERNAL_HEADER = re.compile(r"-(int|internal)\.h$")

SOURCE_DIRS = ("src", "tests", "bench")
SOURCE_EXTS = (".c", ".h")
INCLUDE_DIRS = ("src",)  # the build's include_directories, after the including file's dir
INCLUDE_RE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*([<"])([^>"]+)[>"]', re.M)


def strip_comments(text):
    """text with each comment replaced by spaces (newlines kept, so line numbers stay),
    string and character literals left alone."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "/" and text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == "/" and text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(text[i:j])
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def module_of(rel):
    """The module of a path relative to the root ("src/master/apps.c" -> "master"), or None
    for a path outside the source dirs."""
    parts = rel.split("/")
    if parts[0] == "src":
        return "main" if len(parts) == 2 else parts[1]
    if parts[0] in ("tests", "bench"):
        return parts[0]
    return None


def source_files(root):
    for top in SOURCE_DIRS:
        base = os.path.join(root, top)
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames.sort()
            for f in sorted(filenames):
                if f.endswith(SOURCE_EXTS):
                    yield os.path.relpath(os.path.join(dirpath, f), root).replace(os.sep, "/")


def resolve(root, rel, quote, name):
    """Where `#include` finds name from the file rel: for "", the file's own directory first,
    then the include dirs; for <>, the include dirs only (a system header resolves to
    nothing). Returns a path relative to root, or None."""
    dirs = ([os.path.dirname(rel)] if quote == '"' else []) + list(INCLUDE_DIRS)
    for d in dirs:
        p = os.path.normpath(os.path.join(d, name)).replace(os.sep, "/")
        if not p.startswith("../") and os.path.isfile(os.path.join(root, p)):
            return p
    return None


class Include:
    def __init__(self, file, line, name, target):
        self.file, self.line, self.name, self.target = file, line, name, target
        self.src_mod = module_of(file)
        self.dst_mod = module_of(target) if target else None

    def where(self):
        return "%s:%d: includes '%s'" % (self.file, self.line, self.name)


def scan(root):
    """Every include of the tree: (list of Include, list of error strings)."""
    incs, errors = [], []
    for rel in source_files(root):
        with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
            text = strip_comments(f.read())
        for m in INCLUDE_RE.finditer(text):
            quote, name = m.group(1), m.group(2).strip()
            line = text.count("\n", 0, m.start()) + 1
            target = resolve(root, rel, quote, name)
            if target is None:
                first = name.split("/")[0]
                if quote == '"' and "/" in name and first in ALLOWED:
                    target = "src/" + name  # not there (yet): still that module's header
                elif quote == '"':
                    errors.append("%s:%d: includes '%s': no such file in the file's "
                                  "directory or in src/" % (rel, line, name))
                    continue
                else:
                    continue  # a system header
            inc = Include(rel, line, name, target)
            if inc.dst_mod is None:
                errors.append("%s: from outside src/, tests/ and bench/" % inc.where())
                continue
            incs.append(inc)
    return incs, errors


def check_edges(incs):
    errors, unknown = [], set()
    for inc in incs:
        a, b = inc.src_mod, inc.dst_mod
        for mod in (a, b):
            if mod not in ALLOWED and mod not in unknown:
                unknown.add(mod)
                errors.append("%s: module '%s' is not in the layer table "
                              "(ALLOWED in scripts/check-layers.py)" % (inc.where(), mod))
        if a == b or a not in ALLOWED or b not in ALLOWED:
            continue
        if ALLOWED[a] is not ANY and b not in ALLOWED[a]:
            errors.append("%s: module %s may not use module %s" % (inc.where(), a, b))
        elif ((a, b) in THROUGH and inc.target not in THROUGH[(a, b)] and
              not INTERNAL_HEADER.search(inc.target)):  # that one check_internal reports
            errors.append("%s: module %s uses module %s only through %s"
                          % (inc.where(), a, b, ", ".join(sorted(THROUGH[(a, b)]))))
    return errors


def check_internal(incs):
    errors = []
    for inc in incs:
        if inc.src_mod == inc.dst_mod or inc.src_mod in MAY_INCLUDE_INTERNAL:
            continue
        if INTERNAL_HEADER.search(inc.target):
            errors.append("%s: module %s's internal header, from module %s"
                          % (inc.where(), inc.dst_mod, inc.src_mod))
    return errors


def find_cycles(edges):
    """edges: {a: {b: example}}. Returns one cycle [a, b, ..., a] per strongly connected
    component of more than one module (Tarjan's algorithm, iterative)."""
    index, low, on, stack, sccs = {}, {}, set(), [], []
    nodes = sorted(set(edges) | {b for bs in edges.values() for b in bs})
    for start in nodes:
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, {}))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on.add(start)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(edges.get(w, {})))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                scc = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    scc.append(w)
                    if w == v:
                        break
                if len(scc) > 1:
                    sccs.append(set(scc))
    cycles = []
    for scc in sccs:
        # the shortest way back to the component's first module, through the component
        first = min(scc)
        prev, queue = {first: None}, [first]
        for v in queue:
            for w in sorted(edges.get(v, {})):
                if w in scc and w not in prev:
                    prev[w] = v
                    queue.append(w)
        last = min(v for v in scc if first in edges.get(v, {}) and v in prev)
        path = [last]
        while prev[path[-1]] is not None:
            path.append(prev[path[-1]])
        cycles.append(list(reversed(path)) + [first])
    return cycles


def check_cycles(incs):
    edges = {}
    for inc in incs:
        if inc.src_mod != inc.dst_mod:
            edges.setdefault(inc.src_mod, {}).setdefault(inc.dst_mod, inc)
    errors = []
    for cyc in find_cycles(edges):
        steps = "; ".join(edges[a][b].where() for a, b in zip(cyc, cyc[1:]))
        errors.append("include cycle between modules %s (%s)" % (" -> ".join(cyc), steps))
    return errors


def check_owned(root):
    errors = []
    pats = [(re.compile(p), owners) for p, owners in OWNED.items()]
    for rel in source_files(root):
        if not rel.startswith("src/"):
            continue
        with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
            text = strip_comments(f.read())
        for pat, owners in pats:
            if rel in owners:
                continue
            for m in pat.finditer(text):
                line = text.count("\n", 0, m.start()) + 1
                errors.append("%s:%d: '%s' belongs to %s" % (rel, line, m.group(0),
                                                          ", ".join(sorted(owners))))
    return errors


def check(root):
    """All the violations of the tree at root, as messages, and the number of includes."""
    incs, errors = scan(root)
    return (errors + check_edges(incs) + check_internal(incs) + check_cycles(incs) +
            check_owned(root)), len(incs)


def table_errors():
    """The table's own consistency: every set names known modules, is closed downwards, and
    the allowed edges have no cycle."""
    errors = []
    for a, uses in ALLOWED.items():
        for b in uses or ():
            if b not in ALLOWED:
                errors.append("%s may use '%s', which is not in the table" % (a, b))
            elif ALLOWED[b] is ANY or not ALLOWED[b] <= uses:
                errors.append("%s may use %s but not all that %s may use" % (a, b, b))
    edges = {a: {b: None for b in (uses if uses is not ANY else ())}
             for a, uses in ALLOWED.items()}
    for cyc in find_cycles(edges):
        errors.append("the table allows a cycle: " + " -> ".join(cyc))
    return errors


def self_test():
    import tempfile
    import unittest

    def tree(files):
        d = tempfile.TemporaryDirectory()
        for rel, text in files.items():
            p = os.path.join(d.name, rel)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "w") as f:
                f.write(text)
        return d

    class T(unittest.TestCase):
        def verdicts(self, files):
            with tree(files) as root:
                return check(root)[0]

        def test_table(self):
            self.assertEqual(table_errors(), [])

        def test_good_tree(self):
            errs = self.verdicts({
                "src/base/log.h": "#pragma once\n",
                "src/base/log.c": '#include "base/log.h"\n#include <stdio.h>\n',
                "src/json/j.h": '#include "base/log.h"\n',
                "src/master/master-int.h": '#include "json/j.h"\n',
                "src/master/a.c": '#include "master-int.h"\n#include "master/master-int.h"\n',
                "src/main.c": '#include "master/master.h"\n',  # not there yet: still master
                "tests/unit/test-master.c": '#include "master/master-int.h"\n',
                "bench/x/bench.h": '#include "master/master-int.h"\n',
                "bench/x/b.c": '#include "bench.h"\n',
            })
            self.assertEqual(errs, [])

        def test_through(self):
            errs = self.verdicts({
                "src/master/rm.h": "",
                "src/master/state-json.h": "",
                "src/apps/a.c": '#include "master/rm.h"\n#include "master/state-json.h"\n',
            })
            self.assertEqual(errs, ["src/apps/a.c:2: includes 'master/state-json.h': module "
                                    "apps uses module master only through src/master/rm.h"])

        def test_owned_state(self):
            errs = self.verdicts({
                "src/master/ledger.c": "a->led.free.n = 0;\n",
                "src/master/rm.h": "return &a->led.used;\n",
                "src/apps/x.c": "/* a->led.free in a comment */\nn = a->led.total.n;\n",
                "tests/unit/t.c": "a->led.free.n = 1;\n",
            })
            self.assertEqual(errs, ["src/apps/x.c:2: 'led.total' belongs to "
                                    "src/master/ledger.c, src/master/rm.h"])

        def test_layer_broken(self):
            errs = self.verdicts({
                "src/base/log.h": "",
                "src/json/j.h": "",
                "src/base/a.c": '#include "base/log.h"\n\n#include "json/j.h"\n',
            })
            self.assertIn("src/base/a.c:3: includes 'json/j.h': module base may not use "
                          "module json", errs)

        def test_relative_path_is_resolved(self):
            errs = self.verdicts({
                "src/master/m.h": "",
                "src/cli/c.c": '#include "../master/m.h"\n',
            })
            self.assertEqual(errs, ["src/cli/c.c:1: includes '../master/m.h': module cli may "
                                    "not use module master"])

        def test_comments_and_strings(self):
            errs = self.verdicts({
                "src/apps/a.h": "",
                "src/master/m.c": 'static const char *s = "/*";\n'
                                  '/* #include "apps/a.h" */\n'
                                  '// #include "apps/a.h"\n'
                                  '#include "apps/a.h"\n',
            })
            self.assertEqual(errs, ["src/master/m.c:4: includes 'apps/a.h': module master may "
                                    "not use module apps"])

        def test_internal_header(self):
            errs = self.verdicts({
                "src/master/master-int.h": "",
                "src/cli/cli-internal.h": "",
                "src/server/s.c": '#include "master/master-int.h"\n',
                "src/main.c": '#include "cli/cli-internal.h"\n',
                "tests/unit/t.c": '#include "cli/cli-internal.h"\n',
            })
            self.assertEqual(sorted(errs), [
                "src/main.c:1: includes 'cli/cli-internal.h': module cli's internal header, "
                "from module main",
                "src/server/s.c:1: includes 'master/master-int.h': module master's internal "
                "header, from module server",
            ])

        def test_cycle(self):
            errs = self.verdicts({
                "src/master/m.h": "", "src/apps/a.h": "",
                "src/master/m.c": '#include "apps/a.h"\n',
                "src/apps/a.c": '#include "master/m.h"\n',
            })
            self.assertIn("include cycle between modules apps -> master -> apps "
                          "(src/apps/a.c:1: includes 'master/m.h'; "
                          "src/master/m.c:1: includes 'apps/a.h')", errs)

        def test_unknown_module_and_missing_header(self):
            errs = self.verdicts({
                "src/base/b.h": "",
                "src/gizmo/g.c": '#include "base/b.h"\n#include "nowhere.h"\n',
            })
            self.assertEqual(sorted(errs), [
                "src/gizmo/g.c:1: includes 'base/b.h': module 'gizmo' is not in the layer "
                "table (ALLOWED in scripts/check-layers.py)",
                "src/gizmo/g.c:2: includes 'nowhere.h': no such file in the file's directory "
                "or in src/",
            ])

        def test_find_cycles(self):
            self.assertEqual(find_cycles({"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1, "d": 1}}),
                             [["a", "b", "c", "a"]])
            self.assertEqual(find_cycles({"a": {"b": 1}, "b": {"c": 1}}), [])

    suite = unittest.defaultTestLoader.loadTestsFromTestCase(T)
    ok = unittest.TextTestRunner(stream=sys.stdout, verbosity=2).run(suite).wasSuccessful()
    return 0 if ok else 1


def main(argv):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    args = argv[1:]
    if args == ["--self-test"]:
        return self_test()
    if len(args) == 2 and args[0] == "--root":
        root = args[1]
    elif args:
        print("usage: check-layers.py [--root DIR] | --self-test", file=sys.stderr)
        return 2
    errors, nincs = table_errors(), 0
    if not errors:
        errors, nincs = check(root)
    for e in errors:
        print(e)
    print("check-layers: %d problem%s, %d includes of berth headers checked in '%s'"
          % (len(errors), "" if len(errors) == 1 else "s", nincs, root))
    return 1 if errors else 0

if __name__ == "__main__":
    sys.exit(main(sys.argv))
