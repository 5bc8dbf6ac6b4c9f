"""Heat equation on a rod: a sparse Laplacian from scipy.sparse, a steady state by
spsolve, then time integration with solve_ivp; the run moves between the two phases."""

import numpy as np
from scipy import integrate, sparse
from scipy.sparse.linalg import eigsh, spsolve

import teleporter

n = 120
h = 1.0 / (n + 1)
main = -2.0 * np.ones(n)
off = np.ones(n - 1)
L = sparse.diags([off, main, off], offsets=[-1, 0, 1], format="csr") / h**2
x = np.linspace(h, 1 - h, n)
source = np.sin(np.pi * x) + 0.5 * np.sin(3 * np.pi * x)
steady = spsolve(L.tocsc(), -source)
print("laplacian nnz:", L.nnz, "format:", L.format)
print("steady max %.8f at x=%.4f" % (steady.max(), x[steady.argmax()]))
vals = eigsh(-L, k=3, sigma=0, which="LM", return_eigenvectors=False)
print("smallest eigenvalues", np.round(np.sort(vals), 4).tolist())

teleporter.teleport()

u0 = np.exp(-200 * (x - 0.3) ** 2)
kappa = 0.01


def rhs(t, u):
    return kappa * (L @ u) + 0.1 * source


sol = integrate.solve_ivp(rhs, (0.0, 2.0), u0, method="BDF", t_eval=[0.0, 0.5, 1.0, 2.0],
                          jac=kappa * L, rtol=1e-8, atol=1e-10)
print("ivp status:", sol.status, "times:", sol.t.tolist())
for ti, col in zip(sol.t, sol.y.T):
    print(f"  t={ti:.1f} mass={integrate.trapezoid(col, x):.8f} peak={col.max():.8f}")
quad_val, _ = integrate.quad(lambda s: np.exp(-s * s), 0, np.inf)
print("gaussian half integral %.12f" % quad_val)
coo = L.tocoo()
print("coo checksum %.4f" % float((coo.row * 3 + coo.col * 7 + coo.data).sum()))
