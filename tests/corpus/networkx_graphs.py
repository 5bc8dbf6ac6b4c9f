"""Graph analytics with networkx on a seeded random road network: components, shortest
paths and centrality before the move; flows, MST, PageRank and coloring after it."""

import networkx as nx

import teleporter

G = nx.connected_watts_strogatz_graph(60, 4, 0.2, seed=21)
for u, v in G.edges():
    G[u][v]["weight"] = 1 + (u * 31 + v * 17) % 9
    G[u][v]["capacity"] = 2 + (u + v) % 5
print("nodes", G.number_of_nodes(), "edges", G.number_of_edges(), "connected", nx.is_connected(G))
dist, path = nx.single_source_dijkstra(G, 0, 37)
print("0 -> 37:", dist, path)
bc = nx.betweenness_centrality(G, weight="weight")
top = sorted(bc, key=lambda n: (-bc[n], n))[:5]
print("top betweenness:", [(n, round(bc[n], 4)) for n in top])
lengths = dict(nx.all_pairs_dijkstra_path_length(G, weight="weight"))

teleporter.teleport()

print("diameter (weighted):", max(max(d.values()) for d in lengths.values()))
flow_value, _ = nx.maximum_flow(G.to_directed(), 0, 37, capacity="capacity")
print("max flow 0->37:", flow_value)
mst = nx.minimum_spanning_tree(G, weight="weight")
print("mst weight:", mst.size(weight="weight"), "edges:", mst.number_of_edges())
pr = nx.pagerank(G, alpha=0.85, tol=1e-10)
print("pagerank top:", [(n, round(p, 5)) for n, p in sorted(pr.items(), key=lambda kv: (-kv[1], kv[0]))[:4]])
coloring = nx.greedy_color(G, strategy="largest_first")
print("colors used:", max(coloring.values()) + 1)
D = nx.DiGraph([(a, b) for a, b in G.edges() if a < b])
print("dag:", nx.is_directed_acyclic_graph(D), "first in topo order:", list(nx.topological_sort(D))[:6])
print("clustering: %.6f" % nx.average_clustering(G))
print("communities:", [sorted(c)[:3] for c in nx.community.greedy_modularity_communities(G)][:3])
