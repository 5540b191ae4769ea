"""module_order.py against small trees: it must accept the right way and catch the wrong one."""
import pathlib
import tempfile
import unittest

import module_order

ORDER = ["core", "config", "vault", "client", "app"]


class ModuleOrderTest(unittest.TestCase):
    def tree(self, files):
        root = pathlib.Path(self.enterContext(tempfile.TemporaryDirectory()))
        for name, text in files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(text)
        return root

    def test_downward_includes_pass(self):
        root = self.tree({
            "src/vault/a.cpp": "#include <sidecar/vault/a.hpp>\n#include <sidecar/core/x.hpp>\n",
            "include/sidecar/config/c.hpp": "#include <sidecar/core/x.hpp>\n",
            "include/sidecar/client.hpp": "#include <sidecar/vault/a.hpp>\n",
            "src/main.cpp": "#include <sidecar/app/run.hpp>\n",
        })
        self.assertEqual(module_order.violations(root, ORDER), [])

    def test_an_include_against_the_order_fails_with_its_line(self):
        root = self.tree({"src/config/p.cpp": "// x\n#include <sidecar/config/p.hpp>\n"
                                              "  #  include <sidecar/vault/client.hpp>\n"})
        found = module_order.violations(root, ORDER)
        self.assertEqual(len(found), 1)
        self.assertEqual(found[0][0], "src/config/p.cpp:3")
        self.assertIn("'vault' comes after 'config'", found[0][1])

    def test_the_facade_header_counts_as_module_client(self):
        root = self.tree({"include/sidecar/vault/v.hpp": "#include <sidecar/client.hpp>\n",
                          "include/sidecar/client.hpp": "#include <sidecar/app/run.hpp>\n"})
        found = module_order.violations(root, ORDER)
        self.assertEqual([w for w, _ in found],
                         ["include/sidecar/client.hpp:1", "include/sidecar/vault/v.hpp:1"])

    def test_unknown_modules_are_errors_not_ignored(self):
        root = self.tree({"src/core/a.cpp": "#include <sidecar/engine/e.hpp>\n",
                          "src/extra/b.cpp": "#include <sidecar/core/a.hpp>\n"})
        messages = [m for _, m in module_order.violations(root, ORDER)]
        self.assertEqual(len(messages), 2)
        self.assertIn("names no module", messages[0])
        self.assertIn("'extra' is not in the order", messages[1])

    def test_main_exit_status(self):
        bad = self.tree({"src/core/a.cpp": "#include <sidecar/app/run.hpp>\n"})
        self.assertEqual(module_order.main(["--root", str(bad), "--order", *ORDER]), 1)
        good = self.tree({"src/app/a.cpp": "#include <sidecar/core/a.hpp>\n"})
        self.assertEqual(module_order.main(["--root", str(good), "--order", *ORDER]), 0)


if __name__ == "__main__":
    unittest.main()
