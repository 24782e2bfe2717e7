// The association chart (pages/record/associations.html): cytoscape draws the people and links given in the
// page's JSON block; the table below the chart holds the same information and is the page without JavaScript.
// Cytoscape styles only its own canvas through the CSSOM, which the Content-Security-Policy allows.
const container = document.getElementById("association-graph");
const source = document.getElementById("association-data");

const COLOURS = { record: "#1d70b8", stub: "#0b0c0c", withheld: "#505a5f" };
const EDGE_COLOURS = {
  associate: "#4c2c92",
  co_offender: "#d4351c",
  address: "#00703c",
  vehicle: "#f47738",
  phone: "#1d70b8",
  email: "#5694ca",
  online_identity: "#912b88",
};

// Cytoscape would add a <style> element for its container's `position: relative`, which the CSP refuses (no
// inline style): register.css gives the container that position, and this marker tells cytoscape the rule is there.
const CYTOSCAPE_STYLESHEET = "__________cytoscape_stylesheet";

async function draw() {
  if (!document.getElementById(CYTOSCAPE_STYLESHEET)) {
    const marker = document.createElement("meta");
    marker.id = CYTOSCAPE_STYLESHEET;
    document.head.append(marker);
  }
  const { default: cytoscape } = await import(container.dataset.cytoscape);
  const data = JSON.parse(source.textContent);
  // Two people linked in several ways (co-offenders who share a vehicle) get one line with every way on its
  // label: parallel lines would put their labels on top of each other.
  const links = new Map();
  for (const e of data.edges) {
    const key = [e.source, e.target].sort().join(" ");
    const link = links.get(key);
    if (link) {
      link.label += `\n${e.label}`;
      link.colour = "#505a5f";
    } else {
      links.set(key, { ...e, id: `link ${key}`, colour: EDGE_COLOURS[e.kind] || "#505a5f" });
    }
  }
  const elements = [
    ...data.nodes.map((n) => ({ data: { ...n, colour: n.level === 0 ? "#0b0c0c" : COLOURS[n.shown] } })),
    ...[...links.values()].map((e) => ({ data: e })),
  ];
  const cy = cytoscape({
    container,
    elements,
    userZoomingEnabled: false,
    maxZoom: 1, // a small chart keeps its text at the page's size rather than filling the box
    minZoom: 0.3,
    style: [
      {
        selector: "node",
        style: {
          label: "data(label)",
          "background-color": "data(colour)",
          color: "#0b0c0c",
          "font-family": '"GDS Transport", arial, sans-serif',
          "font-size": 16,
          "text-background-color": "#ffffff",
          "text-background-opacity": 0.85,
          "text-background-padding": 2,
          "text-valign": "bottom",
          "text-margin-y": 6,
          "text-wrap": "wrap",
          "text-max-width": 160,
          width: 28,
          height: 28,
        },
      },
      { selector: "node[level = 0]", style: { width: 44, height: 44, "font-weight": "bold" } },
      {
        selector: "edge",
        style: {
          width: 3,
          "line-color": "data(colour)",
          "curve-style": "bezier",
          label: "data(label)",
          "font-family": '"GDS Transport", arial, sans-serif',
          "font-size": 13,
          color: "#0b0c0c",
          "text-background-color": "#ffffff",
          "text-background-opacity": 1,
          "text-background-padding": 2,
          "text-wrap": "wrap",
        },
      },
    ],
    layout: {
      name: "concentric",
      concentric: (node) => 3 - node.data("level"),
      levelWidth: () => 1,
      minNodeSpacing: 120,
      spacingFactor: 1.5, // long enough lines that their labels sit clear of the names at either end
      padding: 30,
      animate: false,
    },
  });
  cy.on("tap", "node", (event) => {
    const href = event.target.data("href");
    if (href) window.location.assign(href);
  });
  container.dataset.rendered = "true";
}

if (container && source) {
  draw().catch(() => {
    container.hidden = true; // the list below says everything the chart would
  });
}
