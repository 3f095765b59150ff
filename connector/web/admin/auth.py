"""Sign in and out."""

from __future__ import annotations

from flask import redirect, render_template, request, session, url_for

from connector.service.admin_users import AccountInactive, authenticate

from ..common import container
from . import bp
from .security import login_required, safe_next, throttle

MAX_EMAIL = 254  # RFC 5321's longest address path


@bp.get("/login")
def login():
    return render_template("admin/login.html", next=request.args.get("next", ""), error=None)


@bp.post("/login")
def login_submit():
    email = request.form.get("email", "").strip().lower()
    password = request.form.get("password", "")
    if len(email) > MAX_EMAIL:
        return render_template("admin/login.html", next=request.form.get("next", ""),
                               error=f"Invalid field 'email': at most {MAX_EMAIL} "
                                     "characters."), 400
    keys = (f"email:{email}", f"ip:{request.remote_addr}")
    wait = throttle().retry_after(*keys)
    if wait:
        return render_template("admin/login.html", next=request.form.get("next", ""),
                               error=f"Too many failed sign-ins. Try again in {wait} "
                                     "seconds."), 429, {"Retry-After": str(wait)}
    try:
        admin = authenticate(container().db, email, password)
    except AccountInactive as exc:
        throttle().succeeded(*keys)
        return render_template("admin/login.html", next=request.form.get("next", ""),
                               error=str(exc)), 403
    if admin is None:
        throttle().failed(*keys)
        return render_template("admin/login.html", next=request.form.get("next", ""),
                               error="Wrong email or password."), 401
    throttle().succeeded(*keys)
    session.clear()
    session.permanent = True
    session["admin_id"] = admin.admin_id
    return redirect(safe_next(request.form.get("next")))


@bp.post("/logout")
def logout():
    session.clear()
    return redirect(url_for("admin.login"))


@bp.get("/")
@login_required
def home():
    return redirect(url_for("admin.mappings_list"))
