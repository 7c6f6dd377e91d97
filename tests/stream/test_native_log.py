"""Native libraries' INFO and WARNING lines are kept off stderr; everything else comes through, in order."""

import subprocess
import sys
import textwrap

# What MediaPipe 1.2.2 and TFLite printed on a video run (issue 18, defect 9), written to file descriptor 2 the
# way their C++ code does, between lines of our own and a native error that must stay visible.
SCRIPT = textwrap.dedent("""
    import os, sys
    from stream.pose.native_log import NativeLogFilter

    with NativeLogFilter() as log_filter:
        os.write(2, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\\n")
        os.write(2, b"WARNING: Logging before InitGoogle() is written to STDERR\\n")
        print("stream-run: video -> actions (torch)", file=sys.stderr, flush=True)
        os.write(2, b"W0000 00:00:1796492201.853178    9144 inference_feedback_manager.cc:121] Feedback manager "
                    b"requires a model with a single signature inference.\\n")
        os.write(2, b"I0000 00:00:1796492201.9    9145 gl_context.cc:357] GL version: 3.2\\nE0000 00:00:17.9  9145 "
                    b"calculator_graph.cc:887] a real native error\\n")
        print("WARNING stream.run.pipeline: one of ours", file=sys.stderr, flush=True)
    print(f"dropped {log_filter.dropped}", file=sys.stderr)
""")


def test_native_log_noise_is_dropped_and_the_rest_kept_in_order():
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        "stream-run: video -> actions (torch)",
        "E0000 00:00:17.9  9145 calculator_graph.cc:887] a real native error",
        "WARNING stream.run.pipeline: one of ours",
        "dropped 4",
    ]
