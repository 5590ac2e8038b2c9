/* SPDX-License-Identifier: GPL-2.0 */
/* vmpagerd --swap-server: the io_uring swap server for vmpager.ko. */
#ifndef _VMP_SWAP_SERVER_H
#define _VMP_SWAP_SERVER_H

/* argv as given to vmpagerd; returns the process exit status. */
int vmp_swap_server_main(int argc, char **argv);

#endif
