// The places' map (/lieux): Leaflet over the configured tiles, drawing the clusters the
// site's /lieux/carte.json returns for the view, with the list's filters. Each move asks
// again (the previous request is abandoned); nothing is computed here but markers.
// Everything the visitor reads comes from the page's data- attributes (French texts)
// or the JSON, and is set as text, never as HTML.
(function () {
  'use strict';
  var element = document.getElementById('carte');
  if (!element || !window.L) {
    return;
  }
  var settings = element.dataset;
  var status = document.getElementById('carte-etat');
  element.textContent = '';
  element.classList.add('carte-active');

  var map = L.map(element, { zoomSnap: 1, keyboard: true });
  L.tileLayer(settings.tiles, { attribution: settings.attribution, maxZoom: 19 }).addTo(map);
  var markers = L.layerGroup().addTo(map);
  // Mainland France and Corsica until the filters' results say where to look.
  map.fitBounds([[41.3, -5.2], [51.1, 9.6]]);
  var fitToResults = settings.filters !== '';
  var pending = null;

  function load() {
    var bounds = map.getBounds();
    var query = 'sud=' + bounds.getSouth() + '&ouest=' + bounds.getWest() +
      '&nord=' + bounds.getNorth() + '&est=' + bounds.getEast() + '&zoom=' + map.getZoom();
    if (settings.filters) {
      query += '&' + settings.filters;
    }
    if (pending) {
      pending.abort();
    }
    // `loading` until the markers of this view are drawn (tests wait for `ready`).
    element.dataset.state = 'loading';
    pending = new AbortController();
    fetch('/lieux/carte.json?' + query, { signal: pending.signal })
      .then(function (response) {
        return response.ok ? response.json() : Promise.reject(response.status);
      })
      .then(draw)
      .catch(function () { /* abandoned or refused: the list below still stands */ });
  }

  function say(count) {
    if (status) {
      var text = count === 1 ? settings.statusOne : settings.statusMany;
      status.textContent = text.replace('{n}', count.toLocaleString('fr-FR'));
    }
  }

  function placeBubble(cluster) {
    var bubble = document.createElement('p');
    var name = document.createElement('strong');
    name.textContent = cluster.name;
    bubble.appendChild(name);
    if (cluster.kinds) {
      bubble.appendChild(document.createElement('br'));
      bubble.appendChild(document.createTextNode(cluster.kinds));
    }
    bubble.appendChild(document.createElement('br'));
    var link = document.createElement('a');
    link.href = cluster.href;
    link.textContent = settings.open;
    bubble.appendChild(link);
    return bubble;
  }

  function marker(cluster) {
    var one = cluster.count === 1 && cluster.href;
    var size = one ? 18 : Math.min(56, 28 + 6 * String(cluster.count).length);
    var icon = L.divIcon({
      className: one ? 'carte-lieu' : 'carte-groupe',
      html: one ? '' : String(cluster.count),
      iconSize: [size, size]
    });
    var item = L.marker([cluster.latitude, cluster.longitude], {
      icon: icon, title: cluster.label, keyboard: true
    });
    var open;
    if (one) {
      item.bindPopup(placeBubble(cluster));
      open = function () { item.openPopup(); };
    } else {
      open = function () {
        map.setView([cluster.latitude, cluster.longitude], Math.min(map.getZoom() + 2, 19));
      };
      item.on('click', open);
    }
    // A marker is a button (Leaflet gives it the role): Enter and Space press it.
    // Leaflet itself only opens a popup on Enter.
    item.on('keypress', function (event) {
      var key = event.originalEvent.key;
      if (key === ' ' || (key === 'Enter' && !one)) {
        event.originalEvent.preventDefault();
        open();
      }
    });
    return item;
  }

  function draw(view) {
    // A marker pressed from the keyboard goes away with the redraw: keep the focus on
    // the map rather than losing it to the page's top.
    var active = document.activeElement;
    var hadFocus = active && element.contains(active) && active !== element;
    markers.clearLayers();
    view.clusters.forEach(function (cluster) {
      markers.addLayer(marker(cluster));
    });
    say(view.count);
    element.dataset.count = String(view.count);
    if (hadFocus && !element.contains(document.activeElement)) {
      element.focus();
    }
    if (fitToResults && view.clusters.length > 0) {
      // Filtered: look where the results are (the move asks again).
      fitToResults = false;
      var around = L.latLngBounds(view.clusters.map(function (cluster) {
        return [cluster.latitude, cluster.longitude];
      }));
      map.fitBounds(around, { maxZoom: 13, padding: [40, 40] });
      // A fit that does not move the map fires no `moveend`: ask for its view anyway.
      load();
      return;
    }
    element.dataset.state = 'ready';
  }

  map.on('movestart', function () { element.dataset.state = 'moving'; });
  map.on('moveend', load);
  load();
}());
