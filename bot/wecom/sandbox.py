"""Fixed credentials of the sandbox corp: the built-in emulator and the bot share them.

They protect nothing (the sandbox never leaves the machine); they only let the sandbox use the
very same signature and AES code paths as a real WeCom app.
"""

CORP_ID = "wwfilingbotsandbox"
AGENT_ID = 1000002
SECRET = "sandbox-secret-not-for-production-0000000000"
TOKEN = "filingbotSandboxToken"
# 43 characters of [0-9A-Za-z], as WeCom requires (doc path 90930).
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
# Requests to this base never touch the network: the client mounts the emulator on it.
API_BASE = "http://wecom-sandbox.invalid/cgi-bin/"
