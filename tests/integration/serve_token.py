# The helpers test_serve.sh's Python snippets share: the TLS context trusting the test's
# certificate and a token for one of the clients it registered (WORK/clients.txt).
import json, ssl, urllib.request


def tls(work):
    return ssl.create_default_context(cafile=f"{work}/tls.crt")


def token(port, work, client):
    secret = dict(line.split() for line in open(f"{work}/clients.txt"))[client]
    req = urllib.request.Request(f"https://127.0.0.1:{port}/oauth/token",
                                 data=f"grant_type=client_credentials&client_id={client}&client_secret={secret}".encode())
    return json.load(urllib.request.urlopen(req, context=tls(work)))["access_token"]
