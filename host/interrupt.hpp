#pragma once
// SIGINT/SIGTERM: the first signal asks the run to stop after the current writes
// (the batch in flight stops handing out new variants); a second one exits at once.
namespace strata {

void install_interrupt_handlers();
bool interrupt_requested();
int interrupt_signal();  // the signal received, 0 if none

}  // namespace strata
