using CaptionSidecar.Captions;
using CaptionSidecar.ObsBridge;
using CaptionSidecar.ObsBridge.Tests.Fakes;
using CaptionSidecar.Outputs;
using CaptionSidecar.Tests.Support;
using Microsoft.Extensions.Configuration;
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

    private static readonly SpeakerLabel Alice = new("Alice", "#ff8800");
    private static readonly SpeakerLabel Bob = new("Bob", "#00aaff");

    private static CaptionUpdate Labelled(long sequence, CaptionLine[] lines, params CaptionItem[] finalized) =>
        new("en", sequence, CaptionUpdateKind.Text, lines, finalized, DateTimeOffset.UnixEpoch);

    private static CaptionItem Said(int index, string text, SpeakerLabel? speaker) =>
        new("en", index, $"item{index}", text, TimeSpan.Zero, TimeSpan.Zero, speaker);

    [Fact(Timeout = 30000)]
    public async Task ObsCaptionSink_TwoSpeakers_SourceShowsEachBlockLedByItsName()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeObsServer.StartAsync(ct);
        await using var client = Client(server);
        await using var output = new ObsCaptionOutput(client, Options.Create(new ObsCaptionOutputOptions()), NullLogger<ObsCaptionOutput>.Instance, TimeProvider.System);
        output.Start();
        await client.WaitUntilConnectedAsync(ct);
        var sink = new ObsCaptionSink(output);

        await sink.WriteAsync(Labelled(1, [new("Hello there,", "", Alice), new("how are you?", "", Alice), new("Fine.", "", Bob)], Said(1, "Fine.", Bob)), ct);
        await Poll.UntilAsync(() => TextOf(server, "Captions (en)") == "Alice: Hello there,\nhow are you?\nBob: Fine.", "the source labels each block once", ct);

        await sink.WriteAsync(Labelled(2, [new("Fine.", "", Bob), new("And", " you", Alice)]), ct);
        await Poll.UntilAsync(() => TextOf(server, "Captions (en)") == "Bob: Fine.\nAlice: And you", "a block scrolled to the top is labelled again", ct);
        Assert.False(server.Inputs.ContainsKey("Captions (en) Alice"), "no speaker sources unless configured");
    }

    [Fact(Timeout = 30000)]
    public async Task ObsCaptionSink_SpeakerSourceTemplate_EachSpeakerSourceShowsOnlyTheirLinesAndIsClearedWhenTheyScrollAway()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeObsServer.StartAsync(ct);
        await using var client = Client(server);
        await using var output = new ObsCaptionOutput(client, Options.Create(new ObsCaptionOutputOptions()), NullLogger<ObsCaptionOutput>.Instance, TimeProvider.System);
        output.Start();
        await client.WaitUntilConnectedAsync(ct);
        var sink = new ObsCaptionSink(output, Options.Create(new ObsOptions { SpeakerSourceTemplate = "CC {lang} {speaker}" }));

        await sink.WriteAsync(Labelled(1, [new("Hello there,", "", Alice), new("how are you?", "", Alice), new("Fine.", "", Bob)], Said(1, "Fine.", Bob)), ct);
        await Poll.UntilAsync(() => TextOf(server, "CC en Alice") == "Hello there,\nhow are you?" && TextOf(server, "CC en Bob") == "Fine.", "each speaker's source shows their lines", ct);
        Assert.Equal("Alice: Hello there,\nhow are you?\nBob: Fine.", TextOf(server, "Captions (en)"));

        await sink.WriteAsync(Labelled(2, [new("Bye", " now", Alice)]), ct);
        await Poll.UntilAsync(() => TextOf(server, "CC en Alice") == "Bye now" && TextOf(server, "CC en Bob") == "", "Bob's source is cleared when his lines scroll away", ct);

        await sink.WriteAsync(new CaptionUpdate("en", 3, CaptionUpdateKind.Cleared, [], [], DateTimeOffset.UnixEpoch), ct);
        await Poll.UntilAsync(() => TextOf(server, "CC en Alice") == "" && TextOf(server, "Captions (en)") == "", "clearing the language clears the speaker sources", ct);
    }

    [Fact(Timeout = 30000)]
    public async Task ObsCaptionSink_NativeCaptions_SpeakerMarkerAtEachChangeOfSpeakerOnly()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeObsServer.StartAsync(ct);
        server.Streaming = true;
        await using var client = Client(server);
        await using var output = new ObsCaptionOutput(client, Options.Create(new ObsCaptionOutputOptions
        {
            NativeCaptionLanguage = "en",
            NativeCaptionMinDisplay = TimeSpan.FromMilliseconds(10),
            NativeCaptionMaxDisplay = TimeSpan.FromMilliseconds(20),
            NativeCaptionBacklog = 10,
        }), NullLogger<ObsCaptionOutput>.Instance, TimeProvider.System);
        output.Start();
        await Poll.UntilAsync(() => output.IsStreaming, "the stream state was read at connect", ct);
        var sink = new ObsCaptionSink(output);

        await sink.WriteAsync(Labelled(1, [new("Hello.", "", Alice)], Said(1, "Hello.", Alice)), ct);
        await sink.WriteAsync(Labelled(2, [new("Still me.", "", Alice)], Said(2, "Still me.", Alice)), ct);
        await sink.WriteAsync(Labelled(3, [new("Hi.", "", Bob)], Said(3, "Hi.", Bob)), ct);
        await sink.WriteAsync(Labelled(4, [new("José here.", "", Alice)], Said(4, "José here.", new SpeakerLabel("José", "#123456"))), ct);

        await Poll.UntilAsync(() => output.Statistics.StreamCaptionsSent == 4, "four caption frames were accepted", ct);
        Assert.Equal([">> ALICE: Hello.", "Still me.", ">> BOB: Hi.", ">> JOSÉ: José here."],
            server.Requests.Where(r => r.Type == "SendStreamCaption").Select(r => r.Data!["captionText"]!.GetValue<string>()));
    }

    [Theory]
    [InlineData("Captions ({lang}) {speaker}", true)]
    [InlineData("{speaker}\n{lang}", true)]
    [InlineData("Captions {speaker}", false)]
    [InlineData("Captions ({lang})", false)]
    public void ObsOptions_SpeakerSourceTemplateFromTheCommandLine_NeedsSpeakerAndLanguage(string template, bool valid)
    {
        var settings = CaptionSidecar.Hosting.SidecarCommandLine.Settings();
        var root = new System.CommandLine.RootCommand();
        foreach (var setting in settings)
        {
            root.Add(setting.Option);
        }

        var config = CaptionSidecar.Hosting.SidecarCommandLine.ToConfiguration(root.Parse(["--obs-speaker-source-template", template]), settings);
        var options = new ConfigurationBuilder().AddInMemoryCollection(config).Build()
            .GetSection(ObsOptions.Section).Get<ObsOptions>()!;
        var results = new List<System.ComponentModel.DataAnnotations.ValidationResult>();

        Assert.Equal(template, options.SpeakerSourceTemplate);
        Assert.Equal(valid, System.ComponentModel.DataAnnotations.Validator.TryValidateObject(options, new(options), results, validateAllProperties: true));
        Assert.All(results, r => Assert.Equal("Obs:SpeakerSourceTemplate must contain {speaker} and {lang}, e.g. 'Captions ({lang}) {speaker}'.", r.ErrorMessage));
    }

    [Fact]
    public void ObsOptions_SourceTemplateWithoutLanguage_FailsNamingTheSetting()
    {
        var options = new ObsOptions { SourceTemplate = "Captions" };
        var results = new List<System.ComponentModel.DataAnnotations.ValidationResult>();

        Assert.False(System.ComponentModel.DataAnnotations.Validator.TryValidateObject(options, new(options), results, validateAllProperties: true));
        Assert.Equal("Obs:SourceTemplate must contain {lang}, e.g. 'Captions ({lang})'.", Assert.Single(results).ErrorMessage);
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
