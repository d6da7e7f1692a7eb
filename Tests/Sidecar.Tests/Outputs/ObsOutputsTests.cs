using CaptionSidecar.Captions;
using CaptionSidecar.ObsBridge;
using CaptionSidecar.ObsBridge.Tests.Fakes;
using CaptionSidecar.Outputs;
using CaptionSidecar.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CaptionSidecar.Tests.Outputs;

/// <summary>The Sidecar's OBS outputs (caption sink, mute hold, obs-check) against the fake obs-websocket server.</summary>
public sealed class ObsOutputsTests
{
    private static ObsClient Client(FakeObsServer server) =>
        new(Options.Create(new ObsClientOptions { Url = server.Url }), NullLogger<ObsClient>.Instance, TimeProvider.System);

    private static string? TextOf(FakeObsServer server, string name) =>
        server.Inputs.TryGetValue(name, out var input) ? input.Settings["text"]?.GetValue<string>() : null;

    private static CaptionUpdate Update(long sequence, CaptionUpdateKind kind, string final, string tentative = "") => new(
        "en",
        sequence,
        kind,
        kind == CaptionUpdateKind.Cleared ? [] : [new CaptionLine(final, tentative)],
        tentative.Length == 0 && kind == CaptionUpdateKind.Text ? [new CaptionItem("en", (int)sequence, $"item{sequence}", final, TimeSpan.Zero, TimeSpan.Zero)] : [],
        DateTimeOffset.UnixEpoch);

    [Fact(Timeout = 30000)]
    public async Task ObsCaptionSink_TextThenCleared_SourceShowsTheLinesThenNothing()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeObsServer.StartAsync(ct);
        await using var client = Client(server);
        await using var output = new ObsCaptionOutput(client, Options.Create(new ObsCaptionOutputOptions()), NullLogger<ObsCaptionOutput>.Instance, TimeProvider.System);
        output.Start();
        await client.WaitUntilConnectedAsync(ct);
        var sink = new ObsCaptionSink(output);

        await sink.WriteAsync(Update(1, CaptionUpdateKind.Text, "Hello there."), ct);
        await Poll.UntilAsync(() => TextOf(server, "Captions (en)") == "Hello there.", "the source shows the final line", ct);

        await sink.WriteAsync(Update(2, CaptionUpdateKind.Cleared, ""), ct);
        await Poll.UntilAsync(() => TextOf(server, "Captions (en)") == "", "the source is cleared", ct);

        await sink.WriteAsync(Update(3, CaptionUpdateKind.Text, "Again", " and"), ct);
        await sink.CloseLanguageAsync("en", ct);
        await Poll.UntilAsync(() => TextOf(server, "Captions (en)") == "", "closing the language clears its source", ct);
    }

    [Fact(Timeout = 30000)]
    public async Task ObsMuteHold_InputMutedAndUnmuted_HoldFollowsAndNamesTheInput()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeObsServer.StartAsync(ct);
        server.InputMuted["Mic"] = true;
        await using var client = Client(server);
        client.Start();
        await using var watch = new ObsInputMuteWatch(client, "Mic", NullLogger<ObsInputMuteWatch>.Instance);
        var hold = new ObsMuteHold(watch);

        await Poll.UntilAsync(() => hold.IsHeld, "the muted input holds the audio", ct);
        Assert.Equal("OBS input 'Mic' is muted", hold.Reason);

        await server.EmitAsync("InputMuteStateChanged", 1 << 3, new System.Text.Json.Nodes.JsonObject { ["inputName"] = "Mic", ["inputMuted"] = false });
        await Poll.UntilAsync(() => !hold.IsHeld, "unmuting releases the hold", ct);
    }

    [Fact(Timeout = 30000)]
    public async Task ObsCheck_FakeObs_PrintsWhatTheSidecarWouldWorkWith()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeObsServer.StartAsync(ct);
        server.Inputs["Captions (en)"] = ("text_ft2_source_v2", new System.Text.Json.Nodes.JsonObject { ["text"] = "" }, "Scene");
        using var output = new StringWriter();
        using var error = new StringWriter();

        var exit = await ObsCheck.RunAsync(new ObsOptions { Url = server.Url }, output, error, ct);

        Assert.True(exit == 0, error.ToString());
        Assert.Contains("obs-websocket:", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("caption sources:     Captions (en)", output.ToString(), StringComparison.Ordinal);
        Assert.Empty(error.ToString());
    }

    [Fact(Timeout = 30000)]
    public async Task ObsCheck_NothingListening_ExitsOneWithOneLineSayingWhy()
    {
        var ct = TestContext.Current.CancellationToken;
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        using var output = new StringWriter();
        using var error = new StringWriter();

        var exit = await ObsCheck.RunAsync(new ObsOptions { Url = new Uri($"ws://127.0.0.1:{port}") }, output, error, ct);

        Assert.Equal(1, exit);
        var line = Assert.Single(error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("OBS is not reachable", line, StringComparison.Ordinal);
        Assert.Empty(output.ToString());
    }
}
