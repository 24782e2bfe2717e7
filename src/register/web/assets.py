"""The static assets the register serves itself: nothing is loaded from another host (police networks have no
internet).

They come from the npm registry (`package.json`, `package-lock.json`, installed by `npm ci`); `build` copies
the files the pages use from `node_modules/` into `static/dist/` with a content hash in each name (so they can
be cached for a year) and writes `manifest.json`, which maps each logical name to its hashed file. The
register's own static files (`static/src/`) are hashed the same way. GOV.UK and MoJ Frontend's fonts and
images keep their names under `assets/`, where their stylesheets expect them.

    python -m register.web.assets build [--node-modules DIR]
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from ..config import PROJECT_ROOT

STATIC = Path(__file__).parent / "static"
DIST = STATIC / "dist"
OWN = STATIC / "src"
MANIFEST = "manifest.json"

# logical name -> file under node_modules/
PACKAGED = {
    "govuk-frontend.css": "govuk-frontend/dist/govuk/govuk-frontend.min.css",
    "govuk-frontend.js": "govuk-frontend/dist/govuk/govuk-frontend.min.js",
    "moj-frontend.css": "@ministryofjustice/frontend/moj/moj-frontend.min.css",
    "moj-frontend.js": "@ministryofjustice/frontend/moj/moj-frontend.min.js",
    "swagger-ui.css": "swagger-ui-dist/swagger-ui.css",
    "swagger-ui-bundle.js": "swagger-ui-dist/swagger-ui-bundle.js",
    "redoc.standalone.js": "redoc/bundles/redoc.standalone.js",
    # the association chart's graph (an ES module: `import cytoscape from "<url>"`)
    "cytoscape.js": "cytoscape/dist/cytoscape.esm.min.mjs",
}
# folders whose files keep their names (the design systems' stylesheets refer to /assets/fonts/... and
# /assets/images/...)
UNHASHED = ["govuk-frontend/dist/govuk/assets", "@ministryofjustice/frontend/moj/assets"]


class AssetsMissing(RuntimeError):
    pass


def _hashed_name(name: str, content: bytes) -> str:
    stem, dot, ext = name.rpartition(".")
    return f"{stem}-{hashlib.sha256(content).hexdigest()[:12]}{dot}{ext}"


_SOURCE_MAP = re.compile(rb"\n?(?://# sourceMappingURL=[^\n]*|/\*# sourceMappingURL=[^*]*\*/)\s*$")


def _strip_source_map(name: str, content: bytes) -> bytes:
    """The packages' source maps are not copied: drop the closing comment that points at one (a browser would
    ask)."""
    return _SOURCE_MAP.sub(b"\n", content) if name.endswith((".js", ".css")) else content


def build(node_modules: Path = PROJECT_ROOT / "node_modules", out: Path = DIST) -> dict[str, str]:
    """Copy the assets into `out` (replacing what was there) and return the manifest."""
    missing = [rel for rel in [*PACKAGED.values(), *UNHASHED] if not (node_modules / rel).exists()]
    if missing:
        raise AssetsMissing(f"not in {node_modules}: {', '.join(missing)}: run `npm ci` first")
    staging = out.with_name(out.name + ".new")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    manifest: dict[str, str] = {}
    sources = {name: node_modules / rel for name, rel in PACKAGED.items()}
    sources.update({p.name: p for p in sorted(OWN.iterdir()) if p.is_file()})
    for name, path in sources.items():
        content = _strip_source_map(name, path.read_bytes())
        manifest[name] = _hashed_name(name, content)
        (staging / manifest[name]).write_bytes(content)
    for rel in UNHASHED:
        shutil.copytree(node_modules / rel, staging / "assets", dirs_exist_ok=True)
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    shutil.rmtree(out, ignore_errors=True)
    staging.rename(out)
    return manifest


@dataclass(frozen=True)
class Assets:
    """The built assets, for templates: `assets.url("govuk-frontend.css")` ->
    `/static/govuk-frontend-<hash>.css`."""

    directory: Path
    manifest: dict[str, str]
    prefix: str = "/static"

    @classmethod
    def load(cls, directory: Path = DIST) -> Assets:
        try:
            manifest = json.loads((directory / MANIFEST).read_text())
        except FileNotFoundError:
            raise AssetsMissing(
                f"the web assets are not built ({directory / MANIFEST} is missing): run `make demo`, or "
                "`npm ci && python -m register.web.assets build`"
            ) from None
        return cls(directory, manifest)

    def url(self, name: str) -> str:
        return f"{self.prefix}/{self.manifest[name]}"


def main(argv: list[str]) -> int:
    if argv[:1] != ["build"]:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    node_modules = (
        Path(argv[argv.index("--node-modules") + 1])
        if "--node-modules" in argv
        else PROJECT_ROOT / "node_modules"
    )
    try:
        manifest = build(node_modules)
    except AssetsMissing as exc:
        print(f"assets: {exc}", file=sys.stderr)
        return 1
    print(f"assets: {len(manifest)} files built into {DIST}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
