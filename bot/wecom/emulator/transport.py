"""A requests transport adapter that hands requests to a WSGI app in-process.

The sandbox mounts it on the client's session, so the real wechatpy client code path (URL
building, JSON encoding, errcode handling) runs against the emulator without a network."""

from __future__ import annotations

from io import BytesIO
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter
from werkzeug.test import EnvironBuilder, run_wsgi_app


class WSGIAdapter(BaseAdapter):
    """Send requests to `app` instead of the network."""

    def __init__(self, app):
        super().__init__()
        self.app = app

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        parts = urlsplit(request.url)
        body = request.body.encode("utf-8") if isinstance(request.body, str) else request.body
        builder = EnvironBuilder(
            path=parts.path, query_string=parts.query, method=request.method,
            headers=dict(request.headers), data=body or b"",
            base_url=f"{parts.scheme}://{parts.netloc}",
        )
        try:
            app_iter, status, headers = run_wsgi_app(self.app, builder.get_environ())
            content = b"".join(app_iter)
        finally:
            builder.close()
        response = requests.Response()
        response.status_code = int(status.split(" ", 1)[0])
        response.reason = status.split(" ", 1)[-1]
        response.headers = requests.structures.CaseInsensitiveDict(headers)
        response.raw = BytesIO(content)
        response._content = content
        response.url = request.url
        response.request = request
        response.encoding = "utf-8"
        return response

    def close(self):
        pass
