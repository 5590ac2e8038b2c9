// SPDX-License-Identifier: GPL-2.0
/* vmpager-swapd: the swap server alone (vmpagerd --swap-server is the same code). */
#include "swap_server.h"

int main(int argc, char **argv)
{
	return vmp_swap_server_main(argc, argv);
}
