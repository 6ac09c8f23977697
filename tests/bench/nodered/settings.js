// Node-RED settings for the bench peer (make bench-peer, tests/bench).
// The bench writes flows.json and flows_cred.json into a fresh user
// directory of its own; credentials are stored in plain text there
// (credentialSecret false) because the directory is temporary and 0700.
// No editor, no admin API, no HTTP nodes: only the flow runs.
module.exports = {
    uiHost: "127.0.0.1",
    uiPort: parseInt(process.env.GRIDCAL_NR_PORT || "1880", 10),
    httpAdminRoot: false,
    httpNodeRoot: false,
    flowFile: "flows.json",
    credentialSecret: false,
    logging: {
        console: { level: "info", metrics: false, audit: false }
    },
    editorTheme: { projects: { enabled: false } },
    externalModules: {
        autoInstall: false,
        palette: { allowInstall: false }
    },
    diagnostics: { enabled: false },
    telemetry: { enabled: false }
};
