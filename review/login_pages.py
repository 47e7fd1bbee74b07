"""Logging in and out of the review app (blueprint "auth").

A login is throttled before any password is hashed, starts a fresh session (no fixation) and
records the user's session version; logging out ends every session of that user, not only this
browser's. The only page here open without a login is /login itself (review.security).
"""
from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for

from review import auth
from review.security import now
from review.state import db, login_throttle
from review.web import local_path
from store.models import User
from store.decisions import end_sessions, get_user

log = logging.getLogger(__name__)
blueprint = Blueprint("auth", __name__)


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Any:
    target = local_path(request.values.get("next")) or url_for("queue.index")
    if request.method == "GET":
        return render_template("login.html", next=target, name="")
    name = (request.form.get("name") or "").strip()
    password = request.form.get("password") or ""
    throttle = login_throttle()
    wait = throttle.wait_seconds(name, request.remote_addr)
    if wait > 0:  # answered before hashing anything: guessing costs the server nothing more
        log.warning("throttled login for %r from %s (%.0f s left)", name[:100], request.remote_addr, wait)
        flash(f"Too many failed logins; try again in {int(wait) + 1} seconds.", "error")
        return render_template("login.html", next=target, name=name), 429, {"Retry-After": str(int(wait) + 1)}
    with db() as s:
        user = get_user(s, name) if name else None
        ok = auth.verify_password(user.password_hash if user else None, password)
        if ok and user.active:
            if auth.needs_rehash(user.password_hash):
                user.password_hash = auth.hash_password(password)
            session.clear()  # no session fixation: a fresh session (and CSRF token) per login
            session.permanent = True
            session["user_id"], session["user"] = user.id, user.name
            session["version"], session["started"] = user.session_version, now()
            throttle.succeeded(name, request.remote_addr)
            log.info("login %s", user.name)
            return redirect(target)
    throttle.failed(name, request.remote_addr)
    log.warning("failed login for %r from %s", name[:100], request.remote_addr)
    flash("Wrong name or password.", "error")
    return render_template("login.html", next=target, name=name), 401


@blueprint.post("/logout")
def logout() -> Any:
    with db() as s:  # every copy of the cookie stops working, not only this browser's
        user = s.get(User, g.user.id)
        if user is not None:
            end_sessions(user)
    session.clear()
    return redirect(url_for("auth.login"))
