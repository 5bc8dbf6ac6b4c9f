#pragma once
#include <string>

namespace tp {
// False, with a one-line reason, when this build cannot safely run on this interpreter.
bool check_interpreter(std::string &why);
}  // namespace tp
