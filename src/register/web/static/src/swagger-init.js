// Starts Swagger UI on /docs from the register's own copy (no CDN, no inline script). The OpenAPI document's
// address comes from the page; the online validator badge is switched off (it would call another host).
(function () {
  var element = document.getElementById("swagger-ui");
  window.ui = window.SwaggerUIBundle({
    url: element.getAttribute("data-openapi-url"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
})();
