"""Mappings: list, edit with validation, preview, save, history with diffs, rollback."""

from __future__ import annotations

from flask import render_template

from . import bp
from .security import login_required


@bp.get("/mappings")
@login_required
def mappings_list():
    return render_template("admin/error.html", status=200, message="Mappings are coming.")
