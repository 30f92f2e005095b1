"""marionette.py - a headless Firefox driven over the Marionette protocol,
with the standard library only: `firefox-esr --headless --marionette`
listens on a TCP port on loopback; each message either way is
`LENGTH:JSON`, a command being [0, id, "WebDriver:Name", {params}] and
its reply [1, id, error or null, result or null].

Promise: the browser has no network. Every proxy is one that does not
exist (127.0.0.1:9, loopback included), DNS prefetch, captive-portal and
connectivity checks, updates, telemetry, safe browsing and remote
settings are off, and the first-run pages never show. The browser runs in
a fresh profile directory (its user.js holds all of the above and the
Marionette port) and close() kills it and removes that directory, on
every path: use it as a context manager. The console service's messages
(script errors of the page, CSP violations) and every HTTP(S) request
a page opens are recorded from Firefox's chrome context, so a test can insist on no
error and no request."""
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time


def find_firefox():
    for name in ("firefox-esr", "firefox"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


NO_PROXY = "127.0.0.1"
PREFS = {
    # every connection goes to a proxy that does not exist, loopback too
    "network.proxy.type": 1,
    "network.proxy.http": NO_PROXY, "network.proxy.http_port": 9,
    "network.proxy.ssl": NO_PROXY, "network.proxy.ssl_port": 9,
    "network.proxy.socks": NO_PROXY, "network.proxy.socks_port": 9,
    "network.proxy.socks_remote_dns": True,
    "network.proxy.no_proxies_on": "",
    "network.proxy.allow_hijacking_localhost": True,
    "network.dns.disablePrefetch": True,
    "network.prefetch-next": False,
    "network.predictor.enabled": False,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "network.trr.mode": 5,
    # background services that would phone home
    "app.update.auto": False, "app.update.enabled": False,
    "app.normandy.enabled": False,
    "app.shield.optoutstudies.enabled": False,
    "messaging-system.rsexperimentloader.enabled": False,
    "browser.backup.scheduled.enabled": False,
    "browser.safebrowsing.malware.enabled": False, "browser.safebrowsing.phishing.enabled": False,
    "browser.safebrowsing.downloads.enabled": False, "browser.safebrowsing.update.enabled": False,
    "browser.search.update": False,
    "datareporting.healthreport.uploadEnabled": False, "datareporting.policy.dataSubmissionEnabled": False,
    "toolkit.telemetry.enabled": False, "toolkit.telemetry.unified": False,
    "extensions.update.enabled": False, "extensions.getAddons.cache.enabled": False,
    "extensions.blocklist.enabled": False,
    "services.settings.server": "http://127.0.0.1:9/",
    "browser.ping-centre.telemetry": False,
    "browser.newtabpage.enabled": False,
    # no first-run pages, no default-browser question
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage_override.mstone": "ignore",
    "startup.homepage_welcome_url": "about:blank", "startup.homepage_welcome_url.additional": "",
    "browser.startup.page": 0, "browser.startup.homepage": "about:blank",
    "trailhead.firstrun.didSeeAboutWelcome": True,
    "browser.aboutwelcome.enabled": False,
    "datareporting.policy.firstRunURL": "",
    "browser.tabs.warnOnClose": False,
    "toolkit.startup.max_resumed_crashes": -1,
    "browser.sessionstore.resume_from_crash": False,
}


def _user_js(prefs):
    return "".join(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n" for k, v in prefs.items())


# Chrome-context script: records the URL of every HTTP(S) channel a page opens
# (on-opening-request comes as the channel opens, before any proxy or connection) into a list on the browser window (each script runs in a sandbox of its own).
_WATCH_REQUESTS = """
if (!window.__ctRequests) {
  window.__ctRequests = [];
  Services.obs.addObserver({ observe(subject) {
    try {
      const ch = subject.QueryInterface(Ci.nsIChannel);
      // Firefox's own services (system principal) go to the dead proxy; pages' requests are kept
      if (!ch.loadInfo.triggeringPrincipal.isSystemPrincipal) window.__ctRequests.push(ch.URI.spec);
    }
    catch (e) { window.__ctRequests.push('?' + e); }
  } }, 'http-on-opening-request');
}
return true;
"""

# Chrome-context script: the console service's messages (a page's uncaught
# errors and CSP violations are nsIScriptError) as [is_error, text].
_CONSOLE = """
return Services.console.getMessageArray().map(m => {
  let e = null;
  try { e = m.QueryInterface(Ci.nsIScriptError); } catch (x) {}
  if (!e) return [false, m.message];
  const warning = (e.flags & Ci.nsIScriptError.warningFlag) || (e.flags & Ci.nsIScriptError.infoFlag);
  return [!warning, e.category + ': ' + e.errorMessage + ' (' + e.sourceName + ':' + e.lineNumber + ')'];
});
"""


class MarionetteError(Exception):
    pass


class Browser:
    """firefox started headless in a fresh profile; one WebDriver session."""

    def __init__(self, binary, width=1280, height=900, timeout=60):
        self.profile = tempfile.mkdtemp(prefix="cowtrace-firefox-")
        self.proc = None
        self.sock = None
        self._next = 0
        self._buf = b""
        try:
            self._start(binary, width, height, timeout)
        except BaseException:
            self.close()
            raise

    def _start(self, binary, width, height, timeout):
        self.port = _free_port()
        prefs = dict(PREFS)
        prefs["marionette.port"] = self.port
        with open(os.path.join(self.profile, "user.js"), "w") as f:
            f.write(_user_js(prefs))
        env = dict(os.environ)
        env["MOZ_HEADLESS"] = "1"
        env["MOZ_HEADLESS_WIDTH"], env["MOZ_HEADLESS_HEIGHT"] = str(width), str(height)
        # no crash reporter dialog or upload; a HOME of its own (root's may be another user's)
        env["MOZ_CRASHREPORTER_DISABLE"] = "1"
        env["HOME"] = self.profile
        self.log_path = os.path.join(self.profile, "firefox.log")
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [binary, "--headless", "--marionette", "--remote-allow-system-access", "--no-remote",
             "--profile", self.profile, "about:blank"],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT, env=env,
            start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise MarionetteError(f"firefox exited {self.proc.returncode}: {self.log_tail()}")
            try:
                self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise MarionetteError(f"firefox's Marionette port {self.port} never opened: {self.log_tail()}")
                time.sleep(0.1)
        self.sock.settimeout(timeout)
        hello = self._read()  # {"applicationType": "gecko", "marionetteProtocol": 3}
        if hello.get("marionetteProtocol") != 3:
            raise MarionetteError(f"unexpected Marionette greeting {hello}")
        caps = self.call("WebDriver:NewSession", {"capabilities": {"alwaysMatch": {"acceptInsecureCerts": False}}})
        self.version = caps["capabilities"].get("browserVersion", "?")

    def log_tail(self, n=1500):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")[-n:]
        except OSError:
            return ""

    # -- the socket --
    def _read(self):
        while b":" not in self._buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise MarionetteError(f"firefox closed the Marionette connection: {self.log_tail()}")
            self._buf += chunk
        head, rest = self._buf.split(b":", 1)
        n = int(head)
        while len(rest) < n:
            chunk = self.sock.recv(max(65536, n - len(rest)))
            if not chunk:
                raise MarionetteError("firefox closed the Marionette connection mid-message")
            rest += chunk
        self._buf = rest[n:]
        return json.loads(rest[:n])

    def call(self, command, params=None):
        """Sends one command and returns its result; a WebDriver error raises."""
        self._next += 1
        body = json.dumps([0, self._next, command, params or {}]).encode()
        self.sock.sendall(str(len(body)).encode() + b":" + body)
        while True:
            msg = self._read()
            if isinstance(msg, list) and msg[0] == 1 and msg[1] == self._next:
                break
        if msg[2]:
            err = msg[2]
            raise MarionetteError(f"{command}: {err.get('error')}: {err.get('message')}")
        res = msg[3]
        return res.get("value", res) if isinstance(res, dict) and set(res) == {"value"} else res

    # -- what tests use --
    def navigate(self, url):
        """Loads url and returns when its load event has fired."""
        self.call("WebDriver:Navigate", {"url": url})

    def eval(self, script, *args):
        """Runs script (a function body: `return` its value) in the page."""
        return self.call("WebDriver:ExecuteScript", {"script": script, "args": list(args)})

    def chrome(self, script):
        """Runs script in Firefox's privileged (chrome) context."""
        self.call("Marionette:SetContext", {"value": "chrome"})
        try:
            return self.call("WebDriver:ExecuteScript", {"script": script, "args": []})
        finally:
            self.call("Marionette:SetContext", {"value": "content"})

    def watch_requests(self):
        """From now on, every HTTP(S) request the browser opens is recorded."""
        self.chrome(_WATCH_REQUESTS)

    def requests(self):
        return self.chrome("return window.__ctRequests || [];")

    def console(self):
        """The console service's messages so far, as [is_error, text]."""
        return self.chrome(_CONSOLE)

    def close(self):
        """Kills firefox (its whole process group) and removes the profile."""
        if self.sock:
            try:
                self.sock.settimeout(5)
                self.call("Marionette:Quit", {"flags": ["eForceQuit"]})
            except Exception:
                pass
            self.sock.close()
            self.sock = None
        if self.proc:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            # content processes are in the session firefox started: end them all
            try:
                os.killpg(self.proc.pid, 9)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            self.proc = None
        if getattr(self, "_log", None):
            self._log.close()
            self._log = None
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
