// Shows when the page last looked; a real one would fetch each service's /status.json.
document.getElementById('checked').textContent = `Last checked: ${new Date().toLocaleTimeString()}`;
