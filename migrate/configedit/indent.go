package configedit

import "go.yaml.in/yaml/v3"

// detectIndent returns the indentation unit for new lines: the one the hsm
// section already uses, else the most common one of the file, else 2. New
// lines then look like the operator's own.
func (d *cfgDoc) detectIndent() int {
	if d.hsm.found() && isMapping(d.hsm.val) && len(d.hsm.val.Content) > 0 {
		if u := d.hsm.val.Column - d.hsm.key.Column; u > 0 {
			return u
		}
	}
	counts := map[int]int{}
	countIndents(d.root, counts)
	best, bestN := 2, 0
	for u, n := range counts {
		if n > bestN || (n == bestN && u < best) {
			best, bestN = u, n
		}
	}
	return best
}

// countIndents counts, for every block mapping nested under a key, how much
// deeper its keys sit than that key. Sequences are skipped: "- " items are
// commonly not indented at all.
func countIndents(m *yaml.Node, counts map[int]int) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if v.Kind == yaml.MappingNode && v.Style&yaml.FlowStyle == 0 && v.Line > k.Line {
			if u := v.Column - k.Column; u > 0 {
				counts[u]++
			}
		}
		walkMappings(v, counts)
	}
}

// walkMappings descends through sequences to the mappings inside them.
func walkMappings(n *yaml.Node, counts map[int]int) {
	switch n.Kind {
	case yaml.MappingNode:
		countIndents(n, counts)
	case yaml.SequenceNode:
		for _, c := range n.Content {
			walkMappings(c, counts)
		}
	}
}
