// 盘图 national coverage map (HQ): city bubbles from cities.geojson; choosing a city (bubble or panel link)
// zooms in and loads that city's estates, clustered and coloured by coverage status; zooming back out past
// the city level brings the bubbles back. Every text comes translated from the page (options.texts).
(function () {
  "use strict";

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (match, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? values[key] : match;
    });
  }

  function number(value) {
    return Number(value || 0).toLocaleString(document.documentElement.lang || "zh-CN");
  }

  function bubbleSize(estates) {
    // Area grows with the count; never below a finger's width, never swallowing a province.
    return Math.round(Math.max(40, Math.min(80, 28 + Math.sqrt(estates) * 3)));
  }

  function estateRadius(households) {
    if (!households) return 7;
    return Math.max(7, Math.min(18, 4 + Math.sqrt(households) / 4));
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;  // names are text, never HTML
    return node;
  }

  function getGeoJson(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/geo+json" } }).then(
      function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      }
    );
  }

  function init(map, options) {
    var texts = options.texts;
    var container = map.getContainer();
    var status = document.getElementById("coverage-map-status");
    var back = document.getElementById("coverage-map-back");
    var cityInput = document.getElementById("coverage-city");
    var statuses = {};
    options.statuses.forEach(function (s) { statuses[s.value] = s; });
    var cities = {};  // id → GeoJSON feature
    var bubbles = L.featureGroup().addTo(map);
    var clusters = L.markerClusterGroup({
      chunkedLoading: true,
      maxClusterRadius: 45,
      disableClusteringAtZoom: 16,
      spiderfyOnMaxZoom: false,
      showCoverageOnHover: false,
      iconCreateFunction: function (cluster) { return clusterIcon(cluster); },
    });
    var openCityId = null;
    var loads = 0;  // a newer load (or going back to the nation) makes older answers stale
    var nationalText = "";

    function say(text) { status.textContent = text; }

    function latLng(feature) {
      var c = feature.geometry.coordinates;
      return L.latLng(c[1], c[0]);
    }

    function remember(cityId) {
      if (cityInput) cityInput.value = cityId === null ? "" : String(cityId);
      if (!window.history || !window.history.replaceState) return;
      var url = new URL(window.location.href);
      if (cityId === null) url.searchParams.delete("city_id");
      else url.searchParams.set("city_id", String(cityId));
      window.history.replaceState(null, "", url.toString());
    }

    function markPanel(cityId) {
      Array.prototype.forEach.call(document.querySelectorAll("[data-city-id]"), function (link) {
        var row = link.closest("tr");
        var open = link.getAttribute("data-city-id") === String(cityId);
        if (row) row.classList.toggle("is-open", open);
        if (open) link.setAttribute("aria-current", "true");
        else link.removeAttribute("aria-current");
      });
    }

    function cityText(feature, count) {
      return fill(texts.city, { city: feature.properties.name, count: number(count) });
    }

    function ringIcon(counts, total, size, className) {
      // A disc with the count, ringed by the share of each coverage status (in pipeline order).
      var stops = [];
      var done = 0;
      options.statuses.forEach(function (s) {
        var n = counts[s.value] || 0;
        if (!n || !total) return;
        var from = (done / total) * 100;
        done += n;
        stops.push(s.color + " " + from.toFixed(2) + "% " + ((done / total) * 100).toFixed(2) + "%");
      });
      var disc = element("div", "status-ring-disc");
      disc.style.background = stops.length ? "conic-gradient(" + stops.join(", ") + ")" : "#9aa5b1";
      disc.appendChild(element("span", "status-ring-count", number(total)));
      return L.divIcon({ className: "status-ring " + className, html: disc, iconSize: [size, size] });
    }

    function addBubble(feature) {
      var p = feature.properties;
      var text = cityText(feature, p.estates);
      var marker = L.marker(latLng(feature), {
        icon: ringIcon(p.counts, p.estates, bubbleSize(p.estates), "city-bubble city-" + feature.id),
        keyboard: true,
        title: text,
        riseOnHover: true,
      });
      marker.bindTooltip(element("span", null, p.province ? p.province + " · " + p.name : p.name), { direction: "top" });
      marker.on("click", function () { showCity(feature.id, true); });
      bubbles.addLayer(marker);
    }

    function clusterIcon(cluster) {
      var counts = {};
      var children = cluster.getAllChildMarkers();
      children.forEach(function (m) { counts[m.options.status] = (counts[m.options.status] || 0) + 1; });
      return ringIcon(counts, children.length, children.length < 100 ? 44 : 52, "marker-cluster estate-cluster");
    }

    function popupFor(feature, dealers) {
      var p = feature.properties;
      var box = element("div", "coverage-popup");
      box.appendChild(element("strong", null, p.n));
      var state = statuses[p.s];
      var line = element("p");
      line.appendChild(element("span", "status status-" + p.s, state ? state.label : p.s));
      box.appendChild(line);
      var dealer = dealers[String(p.d)];
      if (dealer) box.appendChild(element("p", null, texts.dealer + "：" + dealer.code + " · " + dealer.name));
      if (p.h) box.appendChild(element("p", null, fill(texts.households, { count: number(p.h) })));
      var link = element("a", null, texts.open);
      link.href = options.estateUrl.replace(/\/0$/, "/" + feature.id);
      box.appendChild(link);
      return box;
    }

    function estateMarker(feature, dealers) {
      var p = feature.properties;
      var marker = L.circleMarker(latLng(feature), {
        radius: estateRadius(p.h),
        color: "#ffffff",
        weight: 1.5,
        fillColor: statuses[p.s] ? statuses[p.s].color : "#666666",
        fillOpacity: 0.9,
        className: "estate-marker estate-" + feature.id + " status-" + p.s,
        status: p.s,
      });
      marker.bindTooltip(element("span", null, p.n));
      marker.bindPopup(function () { return popupFor(feature, dealers); });
      return marker;
    }

    function showCity(cityId, move) {
      var city = cities[cityId];
      if (!city) return;
      var load = ++loads;
      openCityId = cityId;
      if (move) map.setView(latLng(city), Math.max(map.getZoom(), options.cityZoom));
      map.removeLayer(bubbles);
      clusters.clearLayers();
      map.addLayer(clusters);
      back.hidden = false;
      markPanel(cityId);
      remember(cityId);
      container.removeAttribute("data-estates-loaded");
      say(texts.loading);
      getGeoJson(options.estatesUrl.replace("/cities/0/", "/cities/" + cityId + "/"))
        .then(function (collection) {
          if (load !== loads) return;
          var markers = collection.features.map(function (f) { return estateMarker(f, collection.dealers || {}); });
          clusters.addLayers(markers);
          if (markers.length) {
            // Show every estate, but never so far out that the bubbles would come back.
            var bounds = L.latLngBounds(markers.map(function (m) { return m.getLatLng(); }));
            if (!map.getBounds().contains(bounds)) {
              var zoom = Math.max(map.getBoundsZoom(bounds, false, L.point(30, 30)), backZoom() + 1);
              map.setView(bounds.getCenter(), Math.min(zoom, options.cityZoom + 3));
            }
          }
          say(cityText(city, markers.length));
          container.setAttribute("data-estates-loaded", String(markers.length));
        })
        .catch(function () {
          if (load === loads) say(texts.error);
        });
    }

    function showNation() {
      loads++;
      openCityId = null;
      map.removeLayer(clusters);
      clusters.clearLayers();
      map.addLayer(bubbles);
      back.hidden = true;
      markPanel(null);
      remember(null);
      container.removeAttribute("data-estates-loaded");
      say(nationalText);
    }

    function backZoom() {
      return options.cityZoom - 3;
    }

    map.on("zoomend", function () {
      if (openCityId !== null && map.getZoom() <= backZoom()) showNation();
    });

    back.addEventListener("click", function () {
      showNation();
      map.setView(options.national.center, options.national.zoom);
    });

    document.addEventListener("click", function (event) {
      var link = event.target.closest ? event.target.closest("[data-city-id]") : null;
      if (!link) return;
      var cityId = Number(link.getAttribute("data-city-id"));
      if (!cities[cityId]) return;  // not loaded (yet): the link reloads the page on that city
      event.preventDefault();
      showCity(cityId, true);
      if (container.getBoundingClientRect().bottom < 0) container.scrollIntoView({ block: "nearest" });
    });

    var filters = document.getElementById("coverage-map-filters");
    if (filters) {
      filters.addEventListener("change", function (event) {
        if (event.target.hasAttribute("data-autosubmit")) filters.submit();
      });
    }

    say(texts.loading);
    getGeoJson(options.citiesUrl)
      .then(function (collection) {
        var total = 0;
        collection.features.forEach(function (feature) {
          cities[feature.id] = feature;
          total += feature.properties.estates;
          addBubble(feature);
        });
        nationalText = fill(texts.national, { cities: number(collection.features.length), count: number(total) });
        container.setAttribute("data-cities-loaded", String(collection.features.length));
        if (options.openCityId !== null && cities[options.openCityId]) showCity(options.openCityId, false);
        else say(nationalText);
      })
      .catch(function () {
        say(texts.error);
      });
  }

  window.PantuCoverageMap = { init: init };
})();
