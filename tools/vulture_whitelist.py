"""Names vulture reports as unused that are used, by a framework, a template or the database.

`make lint` runs vulture over ztl/ and tests/ (settings under [tool.vulture] in pyproject.toml,
which also ignores the decorators of Flask views, click commands and pytest fixtures). A name goes
here only with the reason it is used although no Python code calls it; dead code is deleted, not
listed. docs/testing.md says more.
"""

from vulture.whitelist_utils import Whitelist

_ = Whitelist()

# --- pytest -----------------------------------------------------------------------------------
_.pytest_configure  # a pytest hook (tests/browser/conftest.py)
_.pytestmark  # marks every test of a module
_.test_client_class  # Flask's app.test_client() builds this class (tests/conftest.py)
# fixtures asked for by name for their effect only (mail silenced, a log or a dead SMTP server)
_.quiet_mail
_.service_log
_.dead_smtp
_.payment_endpoints_open  # tests/test_api_operations.py: the payment notifications opened
_.household_size  # tests/test_rules_registry.py: registers a check for the test

# --- callbacks of the standard library and test servers ---------------------------------------
_.handle_starttag  # html.parser.HTMLParser calls these while feeding a page
_.handle_endtag
_.handle_data
_.handle_DATA  # aiosmtpd calls its handler's handle_DATA for each message
_.mechanism  # aiosmtpd's authenticator callback receives it (tests/test_notifications.py)
_.do_POST  # http.server.BaseHTTPRequestHandler dispatches POST requests to it
_.log_message  # overridden to keep http.server quiet
_.traceback  # the third argument of __exit__ (ztl/pdf/pool.py)

# --- Flask, Flask-Login, WTForms, pydantic, sqlite3: attributes and hooks they read ------------
_.login_view  # Flask-Login settings (ztl/__init__.py, ztl/web/auth/views.py)
_.login_message
_.login_message_category
_.localize_callback
_.session_protection
_.session_interface  # Flask reads app.session_interface for every request
_.ztl_submission  # kept on flask.g between the request's hooks (ztl/web/idempotency.py)
_.ztl_submission_result
_.isolation_level  # sqlite3: None lets us issue BEGIN ourselves (ztl/database.py)
_.Meta  # WTForms reads a form's inner Meta class (CSRF, locales)
_.widget  # WTForms field classes render with these
_.option_widget
# WTForms calls validate_<field> for the field of that name
_.validate_plate
_.validate_zone
_.validate_at
_.validate_targa
_.validate_canale
_.field_title_should_be_set  # pydantic's JSON Schema generator calls it (ztl/api/openapi.py)
# keys of TypedDicts that describe JSON bodies (read and written as dicts)
_.alg  # ztl/api/wellknown.py: the signed lists' algorithm

# --- SQLAlchemy: column types and columns kept in the schema ----------------------------------
_.impl  # TypeDecorator settings (ztl/models/base.py)
_.cache_ok
# columns written by the services or the database's defaults and shown or kept as the record
_.last_used_at  # API tokens and verified identities; shown on the supervisor's token page
_.uploaded_at
_.uploaded_by_id
_.received_at
_.body_sha256
_.changed_at
_.issued_by_id
# every value the database and the register files may hold, used or not by name in Python
_.GATE
_.DECEASED
_.RENTAL
_.DEREGISTERED
_.STOLEN
_.PETROL
_.LPG
_.CNG
_.HYBRID
_.ELECTRIC
_.HYDROGEN
_.CEASED

# --- read by the templates (Jinja) only ----------------------------------------------------------
_.firm_name  # templates/clerk/delegation*.html, templates/resident/firms.html
_.delegate_name
_.delegate_email
_.delegate_codice_fiscale
_.reasons_it  # a guest file's report, read as a dict by ztl/web/resident/hotel_views.py
_.reasons_en
_.stamp_duty_exempt  # templates/resident/categories.html
_.short_label  # the supervisor's bar charts: templates/supervisor/_macros.html
_.text_y
_.value_x
_.aria_label
_.label_right
_.bar_left
_.bar_height
_.decision_time  # a category's public page: templates/public/category.html
_.payable  # templates/public/category.html
_.controller_email  # the rules file's [office.privacy]: templates/public/privacy.html
_.dpo_name  # templates/public/privacy.html
_.hours_it  # the rules file's [office]: templates/public/_office.html
_.hours_en  # templates/public/_office.html
# fields read only by templates: what withdrawing does to the money (templates/macros/confirm.html)
_.kept_cents
_.notice_cancelled
_.replaces  # a permit issued in place of another without a fee: templates/resident/permit.html
# GovPay's notification: the fields the OpenAPI document declares besides the receipt we read
_.idA2A  # ztl/api/pagopa.py Notification
_.idPendenza
_.rpt
_.riscossioni
# when a position was confirmed open and cancelled: kept for the accounting office's history
_.opened_at
_.cancelled_at
# why an officer dismissed a violation: chosen from the form's list, by value (Dismissal)
_.EMERGENCY
_.MISREAD
_.LATE_PERMIT
# paho-mqtt calls these callbacks, and reads these MQTT 5 properties, by name
_.on_connect  # ztl/transits/mqtt.py, tests/mqtt_broker.py
_.on_disconnect
_.on_subscribe
_.on_message
_.on_connect_fail
_.SessionExpiryInterval
_.ReceiveMaximum
