"""The one build step pyproject.toml cannot declare: ship files that live at the repository root.

``rates.csv`` stays at the root, where analysts edit it and Streamlit Community Cloud reads it; the
dashboard (``streamlit_app.py``, ``pages/``) stays there too, where Community Cloud runs it. A
built wheel gets copies inside its packages: the rate table in ``store``, where ``store.pricing``
looks once installed, and the dashboard in ``collector/dashboard``, where
``collector.extras.dashboard_script`` finds it for ``codextime start``. Everything else about the
build is in pyproject.toml.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
#: Where the wheel keeps the dashboard (collector.extras.DASHBOARD names the same folder).
DASHBOARD = "collector/dashboard"


def packaged_copies() -> list[tuple[Path, str]]:
    """Each root file the wheel carries, and where in the build it goes."""
    dashboard = [
        ROOT / "streamlit_app.py",
        *sorted((ROOT / "pages").rglob("*.py")),
        # Streamlit reads the theme and its settings (no usage statistics sent) beside the
        # entry point, and the Privacy page shows docs/counting.md.
        ROOT / ".streamlit" / "config.toml",
        ROOT / "docs" / "counting.md",
    ]
    return [(ROOT / "rates.csv", "store/rates.csv")] + [
        (source, f"{DASHBOARD}/{source.relative_to(ROOT).as_posix()}") for source in dashboard
    ]


class BuildPyWithRootFiles(build_py):
    """build_py that also copies the root files of ``packaged_copies`` into the build."""

    def run(self) -> None:
        super().run()
        # an editable install reads the root files in place (store.pricing.default_rates,
        # collector.extras.dashboard_script)
        if not self.editable_mode:
            for source, target in packaged_copies():
                self.mkpath(str((Path(self.build_lib) / target).parent))
                self.copy_file(str(source), str(Path(self.build_lib) / target))


setup(cmdclass={"build_py": BuildPyWithRootFiles})
