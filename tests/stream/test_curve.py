"""CURVE on the published stream, over real loopback: only a client holding an allowed key hears anything."""

import os
import subprocess
import sys
import time

import pytest
import zmq
import zmq.auth

from foundation.errors import KeyFileError
from stream.publishers.zmq_publisher import ZmqPublisher
from tests.stream.conftest import free_endpoint
from tests.stream.test_messages import sample
from tests.stream.test_zmq import LOCAL, REPO_ROOT


pytestmark = pytest.mark.skipif(not zmq.has("curve"), reason="this libzmq has no CURVE (built without libsodium)")


@pytest.fixture
def keys(tmp_path):
    """Key pairs of the server, an allowed client and a stranger; a folder holding the allowed client's public key."""
    for name in ("server", "robot", "stranger", "impostor"):
        zmq.auth.create_certificates(tmp_path, name)
    for secret in tmp_path.glob("*.key_secret"):
        secret.chmod(0o600)
    clients = tmp_path / "clients"
    clients.mkdir()
    (tmp_path / "robot.key").rename(clients / "robot.key")
    return tmp_path


def listen(endpoint, *args):
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.Popen([sys.executable, "-m", "stream.cli.listen", "--zmq", endpoint, *args], cwd=REPO_ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip


def publish_until_done(pub, procs, seconds=30):
    """Publish an actions message every 20 ms until every process has exited; (outputs, most subscriptions seen)."""
    deadline, frame, most = time.monotonic() + seconds, 0, 0
    while any(p.poll() is None for p in procs) and time.monotonic() < deadline:
        pub.publish("actions", {**sample("actions"), "frame": frame})
        most = max(most, pub.subscriber_count())
        frame += 1
        time.sleep(0.02)
    return [p.communicate(timeout=10) for p in procs], most


def test_only_an_allowed_client_with_the_right_server_key_receives(keys):
    with ZmqPublisher(LOCAL, curve_secret_key=keys / "server.key_secret", curve_clients=keys / "clients") as pub:
        good = listen(pub.endpoint, "--topics", "actions", "--count", "150", "--curve-server-key",
                      str(keys / "server.key"), "--curve-key", str(keys / "robot.key_secret"))  # fmt: skip
        assert pub.wait_for_subscribers(1, timeout_s=20)
        strangers = [
            listen(pub.endpoint, "--topics", "actions", "--timeout", "2", *args)
            for args in (
                ["--curve-server-key", str(keys / "server.key"), "--curve-key", str(keys / "stranger.key_secret")],
                ["--curve-server-key", str(keys / "impostor.key"), "--curve-key", str(keys / "robot.key_secret")],
                ["--curve-server-key", str(keys / "server.key")],  # a fresh key pair: not in the folder
                [],  # no CURVE at all
            )
        ]
        results, most = publish_until_done(pub, [good, *strangers])
    assert most == 1  # while all five were connected, only the allowed client's subscription reached the publisher
    assert good.returncode == 0 and len(results[0][0].splitlines()) == 150
    for proc, (out, err) in zip(strangers, results[1:]):
        assert proc.returncode == 1 and out == "" and "no message" in err  # nothing at all came through


def test_without_a_client_folder_any_client_with_the_server_key_gets_in_but_plaintext_does_not(keys):
    with ZmqPublisher(LOCAL, curve_secret_key=keys / "server.key_secret") as pub:
        keyed = listen(pub.endpoint, "--topics", "actions", "--count", "3", "--curve-server-key",
                       str(keys / "server.key"))  # fmt: skip
        plain = listen(pub.endpoint, "--topics", "actions", "--timeout", "2")
        ((out, err), (plain_out, _)), _ = publish_until_done(pub, [keyed, plain])
    assert keyed.returncode == 0 and len(out.splitlines()) == 3, err
    assert plain.returncode == 1 and plain_out == ""


def test_key_file_errors_name_the_file(keys, tmp_path):
    with pytest.raises(KeyFileError, match="no such file"):
        ZmqPublisher(LOCAL, curve_secret_key=tmp_path / "missing.key_secret")
    with pytest.raises(KeyFileError, match=r"server.key: holds only a public key"):
        ZmqPublisher(LOCAL, curve_secret_key=keys / "server.key")
    (tmp_path / "junk.key_secret").write_text("hello\n")
    with pytest.raises(KeyFileError, match="junk.key_secret: not a ZeroMQ certificate"):
        ZmqPublisher(LOCAL, curve_secret_key=tmp_path / "junk.key_secret")
    with pytest.raises(KeyFileError, match="no such folder"):
        ZmqPublisher(LOCAL, curve_secret_key=keys / "server.key_secret", curve_clients=tmp_path / "nowhere")


def test_stream_run_and_stream_listen_refuse_bad_keys_in_one_line(checkpoint, keys):
    run = subprocess.run([sys.executable, "-m", "stream.cli.run", "--checkpoint", checkpoint, "--zmq",
                          free_endpoint(), "--max-frames", "5", "--zmq-curve-secret", str(keys / "server.key")],
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert run.returncode == 2 and run.stderr.count("\n") == 1 and "holds only a public key" in run.stderr
    proc = listen("tcp://127.0.0.1:5560", "--curve-server-key", str(keys / "nowhere.key"))
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 2 and "nowhere.key: no such file" in err


def test_stream_run_with_curve_from_a_config_file_reaches_only_the_keyed_listener(checkpoint, keys, tmp_path):
    endpoint = free_endpoint()
    config = tmp_path / "run.yaml"
    config.write_text(f"zmq_curve_secret_key: {keys / 'server.key_secret'}\nzmq_curve_clients: {keys / 'clients'}\n")
    keyed = listen(endpoint, "--topics", "actions", "--count", "20", "--curve-server-key", str(keys / "server.key"),
                   "--curve-key", str(keys / "robot.key_secret"))  # fmt: skip
    plain = listen(endpoint, "--topics", "actions", "--timeout", "3")
    run = subprocess.run([sys.executable, "-m", "stream.cli.run", "--config", str(config), "--checkpoint", checkpoint,
                          "--zmq", endpoint, "--source", "synthetic", "--seconds", "6", "--wait-subscribers", "1"],
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    (out, err), (plain_out, _) = keyed.communicate(timeout=30), plain.communicate(timeout=30)
    assert run.returncode == 0, run.stderr
    assert keyed.returncode == 0 and len(out.splitlines()) == 20, err
    assert plain.returncode == 1 and plain_out == ""
