using System.Text.Json;
using System.Text.Json.Nodes;

namespace CaptionSidecar.Overlay.Tests.Fakes;

/// <summary>A host with a few languages that records what the control API asked of it.</summary>
public sealed class FakeControlSurface : IControlSurface
{
    private readonly Lock _gate = new();
    private readonly List<LanguageState> _languages =
    [
        new("en", "English", true),
        new("es", "Spanish", false),
    ];

    public List<string> Calls { get; } = [];

    /// <summary>
    /// The host's status document, shaped like the Sidecar's (Sidecar/Control/ControlStatus.cs; its test
    /// ControlSurfaceTests checks the same field names): the overlay passes it through, the control page reads it.
    /// </summary>
    private readonly JsonObject _status = JsonNode.Parse("""
        {
          "engine": "test-pattern",
          "uptimeSeconds": 3725,
          "tracks": [
            { "language": "en", "sessionState": "connected", "lastError": null, "reconnects": 0, "rollovers": 3, "watchdogRestarts": 0 },
            { "language": "es", "sessionState": "reconnecting", "lastError": "socket closed", "reconnects": 1, "rollovers": 0, "watchdogRestarts": 2 }
          ],
          "obsState": "connected",
          "audioLevelDbfs": -18.5,
          "droppedAudioChunks": 3,
          "captionsPerMinute": 12,
          "rateLimits": [ { "name": "requests", "limit": 100, "remaining": 90, "resetSeconds": 1.5 } ],
          "recentErrors": [ "es session closed by server" ],
          "outputs": [
            { "sink": "console", "delivered": 40, "dropped": 0, "failed": 0, "queued": 0 },
            { "sink": "transcript", "delivered": 38, "dropped": 0, "failed": 0, "queued": 0 }
          ],
          "audioRmsDbfs": -24.5,
          "speech": true,
          "costs": null,
          "voiceGateOpen": null,
          "heldBackSeconds": null,
          "muted": null,
          "mutedSeconds": null,
          "speakers": [
            { "name": "Alice", "label": true, "colour": "#4FC3F7", "language": "en", "input": "default", "captioned": true,
              "inputState": "receiving", "inputDetail": null, "levelDbfs": -12.5, "rmsDbfs": -20.5, "speech": true, "mutedInObs": null },
            { "name": "Bob", "label": true, "colour": "#FFB74D", "language": "es", "input": "device:usb-mic", "captioned": true,
              "inputState": "waiting-for-audio", "inputDetail": "Waiting for audio from device:usb-mic", "levelDbfs": null, "rmsDbfs": null, "speech": null, "mutedInObs": false }
          ]
        }
        """)!.AsObject();

    /// <summary>Changes the status document (the next poll of /api/status sees it).</summary>
    public void UpdateStatus(Action<JsonObject> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        lock (_gate)
        {
            change(_status);
        }
    }

    public JsonElement GetStatus()
    {
        string json;
        lock (_gate)
        {
            json = _status.ToJsonString();
        }

        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    public IReadOnlyList<LanguageState> GetLanguages()
    {
        lock (_gate)
        {
            return [.. _languages];
        }
    }

    public Task<bool> SetLanguageEnabledAsync(string code, bool enabled, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            Calls.Add($"set {code} {enabled}");
            var index = _languages.FindIndex(l => l.Code == code);
            if (index < 0)
            {
                return Task.FromResult(false);
            }

            _languages[index] = _languages[index] with { Enabled = enabled };
            return Task.FromResult(true);
        }
    }

    /// <summary>The <c>speakers</c> of the status document (as the Sidecar's status carries them), or an empty array without that field.</summary>
    public JsonElement GetSpeakers()
    {
        string json;
        lock (_gate)
        {
            json = _status["speakers"]?.ToJsonString() ?? "[]";
        }

        return JsonElement.Parse(json);
    }

    public Task<JsonElement?> SetSpeakerCaptionedAsync(string name, bool captioned, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            Calls.Add($"speaker {name} {captioned}");
            var speaker = (_status["speakers"] as JsonArray)?.OfType<JsonObject>()
                .FirstOrDefault(s => string.Equals((string?)s["name"], name, StringComparison.OrdinalIgnoreCase));
            if (speaker is null)
            {
                return Task.FromResult<JsonElement?>(null);
            }

            speaker["captioned"] = captioned;
            return Task.FromResult<JsonElement?>(JsonElement.Parse(speaker.ToJsonString()));
        }
    }

    /// <summary>
    /// The host's one output, <c>youtube</c>: records the settings asked for, refuses a URL that is not http(s) (as the
    /// Sidecar does, with what to fix), and puts the result in the status document's <c>youTube</c>.
    /// </summary>
    public Task<JsonElement?> ConfigureOutputAsync(string name, JsonElement settings, CancellationToken cancellationToken)
    {
        if (name != "youtube")
        {
            return Task.FromResult<JsonElement?>(null);
        }

        lock (_gate)
        {
            Calls.Add($"output {name} {settings.GetRawText()}");
            if (settings.TryGetProperty("url", out var url) && !(url.GetString() ?? string.Empty).StartsWith("http", StringComparison.Ordinal))
            {
                throw new ArgumentException("The ingestion URL must be the http:// or https:// address YouTube Studio shows.");
            }

            var youTube = _status["youTube"] as JsonObject ?? new JsonObject();
            youTube["on"] = settings.TryGetProperty("enabled", out var enabled) ? enabled.GetBoolean() : (bool?)youTube["on"] ?? false;
            youTube["state"] = (bool?)youTube["on"] == true ? "idle" : "off";
            youTube["problem"] = null;
            if (settings.TryGetProperty("language", out var language))
            {
                youTube["language"] = language.GetString();
            }

            if (settings.TryGetProperty("offsetSeconds", out var offset))
            {
                youTube["offsetSeconds"] = offset.GetDouble();
            }

            if (url.ValueKind == JsonValueKind.String)
            {
                youTube["host"] = new Uri(url.GetString()!).Host;
            }

            _status["youTube"] = youTube;
            return Task.FromResult<JsonElement?>(JsonElement.Parse(youTube.ToJsonString()));
        }
    }

    public Task ClearCaptionsAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            Calls.Add("clear");
        }

        return Task.CompletedTask;
    }

    public Task ShowTestCaptionAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            Calls.Add("test");
        }

        return Task.CompletedTask;
    }

    public string[] CallsSnapshot()
    {
        lock (_gate)
        {
            return [.. Calls];
        }
    }
}
