using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CaptionSidecar.ObsBridge;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CaptionSidecar.Outputs;

/// <summary>
/// <c>obs-check</c>: connects to OBS once and prints what the sidecar would work with (versions, current scene, text
/// input kinds, existing caption sources). Exit 0 when OBS answered, 1 with a one-line reason when it did not.
/// </summary>
internal static class ObsCheck
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);

    public static async Task<int> RunAsync(ObsOptions options, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        await using var client = new ObsClient(
            Options.Create(new ObsClientOptions { Url = options.Url, Password = options.Password }),
            NullLogger<ObsClient>.Instance,
            TimeProvider.System);
        client.Start();
        var connected = await WaitForVerdictAsync(client, cancellationToken);
        if (!connected)
        {
            var status = client.Status;
            var reason = status.State switch
            {
                ObsConnectionState.AuthenticationFailed => "OBS rejected the password (set OBS_WEBSOCKET_PASSWORD or --obs-password to the one in Tools > WebSocket Server Settings)",
                ObsConnectionState.UnsupportedRpcVersion => "this OBS speaks another obs-websocket protocol version (the sidecar needs obs-websocket 5.x, included in OBS 28 and later)",
                _ => $"{status.LastError ?? "OBS did not answer"}: is OBS running with Tools > WebSocket Server Settings > Enable WebSocket server on?",
            };
            await error.WriteLineAsync($"obs-check: {options.Url}: {reason}");
            return 1;
        }

        try
        {
            var version = await DataAsync(client, "GetVersion", null, cancellationToken);
            var scene = await DataAsync(client, "GetCurrentProgramScene", null, cancellationToken);
            var kinds = await DataAsync(client, "GetInputKindList", new JsonObject { ["unversioned"] = false }, cancellationToken);
            var inputs = await DataAsync(client, "GetInputList", null, cancellationToken);

            var textKinds = Strings(kinds, "inputKinds").Where(k => k.StartsWith("text_", StringComparison.Ordinal)).ToList();
            var pattern = new Regex("^" + Regex.Escape(options.SourceTemplate).Replace(Regex.Escape("{lang}"), "(?<lang>.+)", StringComparison.Ordinal) + "$");
            var captionSources = inputs.TryGetProperty("inputs", out var list) && list.ValueKind == JsonValueKind.Array
                ? list.EnumerateArray()
                    .Select(i => i.TryGetProperty("inputName", out var n) ? n.GetString() ?? string.Empty : string.Empty)
                    .Where(n => pattern.IsMatch(n))
                    .ToList()
                : [];

            await output.WriteLineAsync($"OBS:                 {Text(version, "obsVersion")} at {options.Url}");
            await output.WriteLineAsync($"obs-websocket:       {Text(version, "obsWebSocketVersion")} (rpc {Text(version, "rpcVersion")})");
            await output.WriteLineAsync($"current scene:       {Text(scene, "currentProgramSceneName") ?? Text(scene, "sceneName")}");
            await output.WriteLineAsync($"text input kinds:    {(textKinds.Count == 0 ? "none" : string.Join(", ", textKinds))}");
            await output.WriteLineAsync($"caption sources:     {(captionSources.Count == 0 ? $"none yet (they are created as '{options.SourceTemplate}' when captions start)" : string.Join(", ", captionSources))}");
            return 0;
        }
        catch (Exception ex) when (ex is ObsRequestFailedException or ObsConnectionLostException or TimeoutException)
        {
            await error.WriteLineAsync($"obs-check: {options.Url}: OBS connected but did not answer: {ex.Message}");
            return 1;
        }
    }

    /// <summary>True once identified; false when OBS refused us or did not answer within the timeout.</summary>
    private static async Task<bool> WaitForVerdictAsync(ObsClient client, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ConnectTimeout);
        var connected = client.WaitUntilConnectedAsync(timeout.Token);
        while (!connected.IsCompleted)
        {
            if (client.Status.State is ObsConnectionState.AuthenticationFailed or ObsConnectionState.UnsupportedRpcVersion)
            {
                return false;
            }

            try
            {
                await Task.WhenAny(connected, Task.Delay(50, timeout.Token));
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return false;
            }
        }

        return connected.IsCompletedSuccessfully;
    }

    private static async Task<JsonElement> DataAsync(ObsClient client, string request, JsonObject? data, CancellationToken cancellationToken)
    {
        // OBS answers 207 (NotReady) while it is still loading: wait for it a little.
        for (var attempt = 0; ; attempt++)
        {
            var response = await client.SendRequestAsync(request, data, cancellationToken: cancellationToken);
            if (response.Code == ObsStatusCode.NotReady && attempt < 50)
            {
                await Task.Delay(100, cancellationToken);
                continue;
            }

            return response.EnsureSuccess().Data;
        }
    }

    private static string? Text(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) ? v.ToString() : null;

    private static IEnumerable<string> Strings(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array
            ? v.EnumerateArray().Select(x => x.GetString() ?? string.Empty)
            : [];
}
