"""The "attrs" of every record (labels, labels-regex, env, env-regex, tag), byte for byte as
json-file writes them: each container runs once with json-file and once with logguard, and
the two logs must be equal except for the "time" values and what differs between the two
containers themselves (ID, creation time), which each line has replaced by placeholders.
"""
import os
import re
import time
import unittest

import harness

UNSET_VAR = "LG_ATTRS_UNSET_VAR"  # given as `-e NAME` without a value and not in our environment


def created_string(created):
    """Go's time.Time.String() of an RFC 3339 UTC time, as {{.ContainerCreated}} prints it."""
    m = re.fullmatch(r"(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(\.\d+)?Z", created)
    assert m, created
    return "%s %s%s +0000 UTC" % (m.group(1), m.group(2), m.group(3) or "")


# name: (labels, env, log-opts). Every container runs `echo hi; echo there >&2`.
CASES = {
    # The example of the feature request.
    "example": ({"team": "pay"}, ["APP=x"],
                {"labels": "team", "env": "APP", "tag": "{{.Name}}"}),
    # Every documented field and a few more of Info.
    "fields": ({}, ["A=1"],
               {"tag": "{{.ID}} {{.FullID}} {{.Name}} {{.ImageID}} {{.ImageFullID}} {{.ImageName}} "
                       "{{.DaemonName}} {{.Command}} {{.ContainerName}} {{.ContainerCreated}} "
                       "{{json .ContainerCreated}} {{json .ContainerArgs}} {{json .ContainerEnv}} "
                       "{{.ContainerEntrypoint}} {{.ContainerImageName}}"}),
    # Docker's functions, with the argument orders and pipelines people write.
    "functions": ({"com.example.tier": "front end", "v": "h\u00e9llo\tw\u00f6rld <b>&"}, [],
                  {"tag": "{{upper .Name}}/{{truncate .FullID 12}}/{{pad .ImageName 1 2}}|"
                          "{{json .ContainerLabels}}|{{title \"hello wORLD foo_bar x-y\"}}|"
                          "{{join (split .Name \"-\") \".\"}}|{{lower \"ABC\"}}|"
                          "{{index .ContainerLabels \"v\" | upper}}|{{split .Name \"\"}}|"
                          "{{len .Name}}"}),
    # Regexes (Go's unanchored search) over labels and environment variable names.
    "regexes": ({"com.example.tier": "front", "com.example.owner": "ops <team>", "other": "x",
                 "example": "no"},
                ["LOG_LEVEL=debug", "LOG_FMT=", "OTHER=1", "XLOG_=y"],
                {"labels-regex": r"^com\.example\.", "env-regex": "^LOG_|_$"}),
    # Variables listed that have an empty value, no value, or do not exist.
    "env_values": ({}, ["EMPTY=", UNSET_VAR, "SET=a=b=c"],
                   {"env": "EMPTY,%s,MISSING,SET" % UNSET_VAR,
                    # (the engine does not keep the order of -e options: count, not list)
                    "tag": "{{len .ContainerEnv}}"}),
    # On a clash env beats labels, and a non-empty tag beats a label named tag.
    "precedence": ({"dup": "from-label", "tag": "label-tag", "only": "label"},
                   ["dup=from-env", "only2=env"],
                   {"labels": "dup,tag,only", "env": "dup,only2", "labels-regex": "^d",
                    "env-regex": "^du", "tag": "{{.ImageName}}"}),
    # A tag that renders empty leaves no "tag" (so a label named tag stays).
    "empty_tag": ({"tag": "label-tag"}, [],
                  {"labels": "tag", "tag": "{{if false}}x{{end}}"}),
    # ExtraAttributes as the docs show it, control structures and variables.
    "template_language": ({"team": "pay", "zone": "eu"}, ["SOME_ENV_VAR=logtester.1234"],
                          {"env": "SOME_ENV_VAR",
                           "tag": "{{ (.ExtraAttributes nil).SOME_ENV_VAR }}|"
                                  "{{range $k, $v := .ContainerLabels}}{{$k}}={{$v}};{{end}}|"
                                  "{{with .ContainerLabels.nope}}x{{else}}none{{end}}|"
                                  "{{- $n := .Name -}} {{ $n }} |"
                                  "{{if eq .ContainerLabels.zone \"eu\"}}EU{{end}}|"
                                  "{{.ContainerLabels.missing}}|{{\"{{\"}}"}),
    # What dockerd's os.Hostname and the plugin's uname give.
    "hostname": ({}, [], {"tag": "{{.Hostname}}"}),
    # Names with dots and dashes, values needing JSON escapes, labels not listed.
    "escaping": ({"a.b-c_d": "quote\" back\\ nl\nend", "unicode": "\u00e9\u2028\u65e5"}, [],
                 {"labels": "a.b-c_d,unicode,nope,,", "tag": "<{{.Name}}>&"}),
}


class AttrsTest(harness.EngineTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        os.environ.pop(UNSET_VAR, None)

    def run_container(self, driver, name, labels, env, opts, check=True):
        """`docker run` of one busybox container; returns (container id, CompletedProcess)."""
        args = ["run", "--network", "none", "--name", name, "--log-driver", driver]
        for key, value in labels.items():
            args += ["--label", "%s=%s" % (key, value)]
        for entry in env:
            args += ["-e", entry]
        for key, value in opts.items():
            args += ["--log-opt", "%s=%s" % (key, value)]
        cid_file = os.path.join(self.engine.dir, "cid-%d" % time.monotonic_ns())
        args += ["--cidfile", cid_file, harness.IMAGE, "sh", "-c", "echo hi; echo there >&2"]
        result = self.engine.docker(*args, check=check)
        cid = open(cid_file).read().strip() if os.path.exists(cid_file) else None
        return cid, result

    def normalized_lines(self, path, cid):
        """The log's lines with "time" emptied and this container's own ID and creation time
        replaced by placeholders, sorted (stdout and stderr may interleave differently)."""
        created = self.engine.inspect(cid)["Created"]
        lines = []
        with open(path, "rb") as f:
            for line in f.read().decode().splitlines():
                line = re.sub(r'"time":"[^"]*"', '"time":""', line)
                line = line.replace(cid, "<FullID>").replace(cid[:12], "<ID>")
                line = line.replace(created, "<Created>")
                line = line.replace(created_string(created), "<CreatedString>")
                lines.append(line)
        return sorted(lines)

    def json_file_and_logguard(self, case):
        labels, env, opts = CASES[case]
        name = "attrs-" + case.replace("_", "-")
        json_cid, _ = self.run_container("json-file", name, labels, env, opts)
        expected = self.normalized_lines(self.engine.json_file_path(json_cid), json_cid)
        self.engine.docker("rm", name)  # the same name for both, since tags print it
        logguard_opts = dict(opts, rate="off")
        cid, _ = self.run_container(harness.PLUGIN, name, labels, env, logguard_opts)
        actual = self.normalized_lines(self.engine.log_path(cid), cid)
        self.engine.docker("rm", name)
        return expected, actual

    def check_case(self, case):
        expected, actual = self.json_file_and_logguard(case)
        self.assertEqual(len(expected), 2, expected)
        self.assertIn('"attrs":', expected[0])
        self.assertEqual(actual, expected)

    def test_example_from_the_request(self):
        """Proves the request's example: team label, APP variable and {{.Name}} as tag."""
        expected, actual = self.json_file_and_logguard("example")
        self.assertIn('"attrs":{"APP":"x","tag":"attrs-example","team":"pay"}', expected[0])
        self.assertEqual(actual, expected)

    def test_fields(self):
        """Proves every Info field and method a tag can show renders as json-file's does."""
        self.check_case("fields")

    def test_functions(self):
        """Proves Docker's template functions (json, split, join, title, lower, upper, pad,
        truncate) and index/len render as json-file's."""
        self.check_case("functions")

    def test_regexes(self):
        """Proves labels-regex and env-regex select by unanchored Go regexp search."""
        self.check_case("regexes")

    def test_env_values(self):
        """Proves `-e NAME=` gives "", `-e NAME` (unset on the client) and unknown names give
        nothing, and only the first '=' splits."""
        self.check_case("env_values")

    def test_precedence(self):
        """Proves the clash rules: env over labels, tag over a label named tag."""
        expected, actual = self.json_file_and_logguard("precedence")
        self.assertIn('"dup":"from-env"', expected[0])
        self.assertIn('"tag":"lgtest-busybox"', expected[0])
        self.assertEqual(actual, expected)

    def test_empty_tag_keeps_label(self):
        """Proves a tag rendering "" adds no tag, so a label named tag stays."""
        expected, actual = self.json_file_and_logguard("empty_tag")
        self.assertIn('"attrs":{"tag":"label-tag"}', expected[0])
        self.assertEqual(actual, expected)

    def test_template_language(self):
        """Proves ExtraAttributes (as Docker's docs use it), range, with, if, variables, trim
        markers, missing keys and literal delimiters render as json-file's."""
        self.check_case("template_language")

    def test_escaping(self):
        """Proves JSON escaping of attrs (quotes, backslashes, newlines, U+2028, <>&) and
        label names with dots and dashes, and that empty list items select nothing."""
        self.check_case("escaping")

    def test_hostname(self):
        """Proves {{.Hostname}} gives the plugin what dockerd's os.Hostname gives json-file."""
        self.check_case("hostname")

    def test_bad_options_fail_docker_run(self):
        """Proves a bad regex or template makes `docker run` fail with a message naming the
        option, as json-file does."""
        bad = [
            ({"labels-regex": "("}, 'invalid labels-regex "("'),
            ({"env-regex": "[a"}, 'invalid env-regex "[a"'),
            ({"env-regex": r"\C"}, r'invalid env-regex "\C"'),
            ({"tag": "{{.Nope}}"}, 'invalid tag "{{.Nope}}"'),
            ({"tag": "{{nope}}"}, 'invalid tag "{{nope}}"'),
            ({"tag": "{{.Name"}, 'invalid tag "{{.Name"'),
            ({"tag": "{{truncate .Name \"3\"}}"}, 'invalid tag'),
        ]
        for i, (opts, message) in enumerate(bad):
            for driver in ("json-file", harness.PLUGIN):
                all_opts = dict(opts, rate="off") if driver == harness.PLUGIN else opts
                name = "attrs-bad-%d-%s" % (i, driver.replace("-", ""))
                _, result = self.run_container(driver, name, {}, ["A=1"], all_opts, check=False)
                stderr = result.stderr.decode(errors="replace")
                self.assertNotEqual(result.returncode, 0, "%s %s: %s" % (driver, opts, stderr))
                if driver == harness.PLUGIN:
                    self.assertIn("logguard: " + message, stderr, opts)
                self.engine.docker("rm", "-f", name, check=False)


if __name__ == "__main__":
    unittest.main()
