"""The API's interactive documentation: `/openapi.json` and Swagger UI at `/docs`.

Served only when API_DOCS is on (by default everywhere but production); off, those paths
are unknown (404 in the one error shape). Swagger UI's script, stylesheet and icon come from
this app (the `fastapi-offline` package ships them), never from a CDN, and the page has no
inline script: the initialiser is `/docs/init.js`, so the page lives under the same
Content-Security-Policy as every other (see `stockline.security_headers`).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

DOCS = "/docs"
OPENAPI = "/openapi.json"
ASSETS = "/docs/assets"
INIT = "/docs/init.js"

# swagger-ui-bundle.js, swagger-ui.css and favicon.png of Swagger UI 5, as fastapi-offline ships them
ASSETS_DIR = Path(str(files("fastapi_offline") / "static"))

PAGE = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Stockline API</title>
  <link rel="icon" href="{ASSETS}/favicon.png">
  <link rel="stylesheet" href="{ASSETS}/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui" data-openapi-url="{OPENAPI}"></div>
  <script src="{ASSETS}/swagger-ui-bundle.js"></script>
  <script src="{INIT}"></script>
</body>
</html>
"""

# FastAPI's own settings for Swagger UI, with the online validator off: its badge would be
# an image from validator.swagger.io, i.e. the spec's URL sent to a third party.
INIT_JS = """"use strict";
(() => {
  const root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  });
})();
"""


async def _openapi(request: Request) -> JSONResponse:
    return JSONResponse(request.app.openapi())


async def _page(request: Request) -> HTMLResponse:
    return HTMLResponse(PAGE)


async def _init(request: Request) -> Response:
    return Response(INIT_JS, media_type="text/javascript; charset=utf-8")


def install(app: FastAPI) -> None:
    """Routes /openapi.json, /docs, /docs/init.js and /docs/assets/ (build the app with
    openapi_url, docs_url and redoc_url None: these replace FastAPI's own)."""
    app.add_api_route(OPENAPI, _openapi, methods=["GET"], include_in_schema=False)
    app.add_api_route(DOCS, _page, methods=["GET"], include_in_schema=False)
    app.add_api_route(INIT, _init, methods=["GET"], include_in_schema=False)
    app.mount(ASSETS, StaticFiles(directory=ASSETS_DIR), name="api-docs-assets")
