// Import-time check: is the running interpreter the one this build was compiled for?
#include "adapters/layout_check.hpp"

#include "adapters/frame_adapter.hpp"

namespace tp {

bool check_interpreter(std::string &why)
{
    const unsigned long built = PY_VERSION_HEX >> 16;
    const unsigned long running = Py_Version >> 16;
    char buf[200];
    if (built != running) {
        PyOS_snprintf(buf, sizeof buf,
                      "teleporter was built for CPython %s but runs on CPython %lu.%lu; "
                      "reinstall it for this interpreter",
                      adapter::version_name(), running >> 8, running & 0xff);
        why = buf;
        return false;
    }
#ifdef Py_GIL_DISABLED
    why = "teleporter does not support free-threaded CPython builds yet: use the default build";
    return false;
#endif
    std::string detail;
    if (!adapter::check_layout(detail)) {
        PyOS_snprintf(buf, sizeof buf, "unsupported CPython %s build: %s",
                      adapter::version_name(), detail.c_str());
        why = buf;
        return false;
    }
    return true;
}

}  // namespace tp
