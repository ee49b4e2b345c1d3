# Semgrep rule tests for error-details.
import logging
import traceback

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from flask import Flask, jsonify

app = FastAPI()
flask_app = Flask(__name__)
logger = logging.getLogger(__name__)


def run_query() -> list[str]:
    raise RuntimeError("connection to db.internal:5432 as user app failed")


@app.get("/a")
def detail_str() -> list[str]:
    try:
        return run_query()
    except RuntimeError as e:
        # ruleid: error-details, error-details-flow
        raise HTTPException(status_code=500, detail=str(e)) from e


@app.get("/b")
def detail_positional() -> list[str]:
    try:
        return run_query()
    except Exception as exc:
        # ruleid: error-details, error-details-flow
        raise HTTPException(500, f"query failed: {exc}") from None


@app.get("/c")
def json_response_dict() -> JSONResponse:
    try:
        run_query()
    except Exception as e:
        # ruleid: error-details, error-details-flow
        return JSONResponse({"error": repr(e)}, status_code=500)
    return JSONResponse({})


@app.get("/d")
def returned_dict() -> dict[str, object]:
    try:
        run_query()
    except Exception as e:
        # ruleid: error-details
        return {"ok": False, "error": e.args}
    return {"ok": True}


@app.get("/e")
def traceback_text() -> PlainTextResponse:
    try:
        run_query()
    except Exception as e:
        # ruleid: error-details
        return PlainTextResponse(content=traceback.format_exc(), status_code=500)
    return PlainTextResponse("ok")


@app.exception_handler(RuntimeError)
async def handler(request: Request, exc: RuntimeError) -> JSONResponse:
    # ruleid: error-details
    return JSONResponse(status_code=500, content={"detail": "error: {}".format(exc)})


@flask_app.route("/f")
def flask_view():
    try:
        return jsonify(run_query())
    except Exception as e:
        # ruleid: error-details
        return jsonify(error=str(e)), 500


@flask_app.route("/g")
def flask_tuple():
    try:
        return jsonify(run_query())
    except Exception as e:
        # ruleid: error-details
        return str(e), 500


@app.get("/h")
def through_variable() -> list[str]:
    try:
        return run_query()
    except RuntimeError as e:
        message = f"query failed: {e}"
        # ruleid: error-details-flow
        raise HTTPException(500, detail=message) from e


@app.get("/i")
def through_dict() -> JSONResponse:
    try:
        run_query()
    except RuntimeError as e:
        body = {"error": str(e)}
        # ruleid: error-details-flow
        return JSONResponse(body, status_code=500)
    return JSONResponse({})


# The fix: the log gets the exception, the client a generic body.
@app.get("/ok")
def generic(request: Request) -> list[str]:
    try:
        return run_query()
    except RuntimeError as e:
        logger.exception("query failed: %s", e)
        # ok: error-details, error-details-flow
        raise HTTPException(500) from e


@app.get("/ok2")
def generic_body(request: Request) -> JSONResponse:
    try:
        run_query()
    except RuntimeError as e:
        logger.error("query failed: error=%s", type(e).__name__)
        error_id = request.headers.get("x-request-id", "")
        detail = str(e)
        logger.error("query failed: error_id=%s detail=%s", error_id, detail)
        # ok: error-details, error-details-flow
        return JSONResponse({"error": "internal server error", "error_id": error_id}, 500)
    return JSONResponse({})


# The template's readiness route: the exception type goes to the log only.
@app.get("/readyz")
async def readyz() -> dict[str, str]:
    try:
        run_query()
    except Exception as exc:
        logger.warning("readiness check failed: error=%s", type(exc).__name__)
        # ok: error-details
        raise HTTPException(503) from None
    return {"status": "ready"}


# A parser that turns an exception into a message for its caller, not a client.
def parse(value: str) -> int:
    try:
        return int(value)
    except ValueError as e:
        # ok: error-details
        raise TypeError(str(e)) from e
