"""Stand-in for pynvml, which gen5 0.1.0 imports unconditionally: it behaves like a machine without an NVIDIA
driver (nvmlInit raises), so gen5's env_chunk_populator records no GPU component, as on our CPU machines."""


class NVMLError(Exception):
    pass


def nvmlInit():
    raise NVMLError("NVML Shared Library Not Found (stand-in pynvml)")


def nvmlShutdown():
    pass


def nvmlDeviceGetCount():
    raise NVMLError("not initialised")


def nvmlSystemGetDriverVersion():
    raise NVMLError("not initialised")


def nvmlDeviceGetHandleByIndex(index):
    raise NVMLError("not initialised")


def nvmlDeviceGetName(handle):
    raise NVMLError("not initialised")
