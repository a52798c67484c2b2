// 盘图 traffic map: loads the user's estates as GeoJSON into a cluster layer on the folium map,
// applies the stage and new/old toggles in the browser, and opens the estate card on click.
(function () {
  "use strict";

  function radiusFor(households) {
    if (!households) return 6;
    return Math.max(6, Math.min(20, 4 + Math.sqrt(households) / 4));
  }

  function checkedValues(panel, name) {
    return Array.prototype.filter
      .call(panel.querySelectorAll('input[name="' + name + '"]'), function (box) { return box.checked; })
      .map(function (box) { return box.value; });
  }

  function init(map, options) {
    var status = document.getElementById("map-status");
    var panel = document.getElementById("map-toggles");
    var clusters = L.markerClusterGroup({
      chunkedLoading: true,
      maxClusterRadius: 45,
      disableClusteringAtZoom: 16,
      spiderfyOnMaxZoom: false,
      showCoverageOnHover: false,
    });
    map.addLayer(clusters);
    var markers = [];

    function openCard(id) {
      var url = options.cardUrl.replace("/0/", "/" + id + "/");
      htmx.ajax("GET", url, { target: "#estate-card", swap: "innerHTML" }).then(function () {
        // In portrait the card sits below the map and the filters: bring it into view.
        var card = document.getElementById("estate-card");
        if (card && card.getBoundingClientRect().top > window.innerHeight) card.scrollIntoView({ block: "nearest" });
      });
    }

    function applyToggles() {
      var stages = checkedValues(panel, "stage");
      var ages = checkedValues(panel, "age");
      var shown = markers.filter(function (marker) {
        var p = marker.feature.properties;
        return stages.indexOf(p.s) >= 0 && ages.indexOf(p.a || "") >= 0;
      });
      clusters.clearLayers();
      clusters.addLayers(shown);
      status.textContent = shown.length === markers.length ? "" : shown.length + " / " + markers.length;
    }

    function countStages(features) {
      var counts = {};
      features.forEach(function (f) { counts[f.properties.s] = (counts[f.properties.s] || 0) + 1; });
      Array.prototype.forEach.call(document.querySelectorAll("[data-stage-count]"), function (el) {
        el.textContent = "(" + (counts[el.getAttribute("data-stage-count")] || 0) + ")";
      });
    }

    fetch(options.geojsonUrl, { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(function (collection) {
        markers = collection.features.map(function (feature) {
          var c = feature.geometry.coordinates;
          var p = feature.properties;
          var marker = L.circleMarker([c[1], c[0]], {
            radius: radiusFor(p.h),
            color: "#ffffff",
            weight: 1.5,
            fillColor: options.stageColors[p.s] || "#666666",
            fillOpacity: 0.9,
            className: "estate-marker estate-" + feature.id,
          });
          marker.feature = feature;
          var label = document.createElement("span");
          label.textContent = p.n;  // a name is text, never HTML
          marker.bindTooltip(label);
          marker.on("click", function () { openCard(feature.id); });
          return marker;
        });
        countStages(collection.features);
        applyToggles();
        if (!markers.length) status.textContent = document.body.getAttribute("data-map-empty") || "0";
        map.getContainer().setAttribute("data-estates-loaded", String(markers.length));
      })
      .catch(function () {
        status.textContent = document.body.getAttribute("data-error-message") || "Error";
      });

    panel.addEventListener("change", applyToggles);
  }

  document.addEventListener("change", function (event) {
    if (event.target.hasAttribute && event.target.hasAttribute("data-autosubmit")) event.target.form.submit();
  });

  window.PantuTrafficMap = { init: init };
})();
