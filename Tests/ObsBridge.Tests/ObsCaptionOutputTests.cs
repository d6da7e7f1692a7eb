using CaptionSidecar.Tests.Support;
using System.Text.Json.Nodes;
using CaptionSidecar.ObsBridge.Tests.Fakes;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Polly;

namespace CaptionSidecar.ObsBridge.Tests;

/// <summary>The caption output against the fake obs-websocket server.</summary>
public sealed class ObsCaptionOutputTests
{
    private static ObsCaptionOutput NewOutput(ObsClient client, TimeProvider? time = null, Action<ObsCaptionOutputOptions>? configure = null)
    {
        var options = new ObsCaptionOutputOptions();
        configure?.Invoke(options);
        return new ObsCaptionOutput(client, Options.Create(options), new RecordingLogger<ObsCaptionOutput>(), time ?? TimeProvider.System);
    }

    private static string? TextOf(FakeObsServer server, string name) =>
        server.Inputs.TryGetValue(name, out var input) ? input.Settings["text"]?.GetValue<string>() : null;

    private static List<string> SentTexts(FakeObsServer server) => server.Requests
        .Where(r => r.Type is "SetInputSettings" or "CreateInput")
        .Select(r => r.Data!["inputSettings"]!["text"]!.GetValue<string>())
        .ToList();

    [Theory(Timeout = 30000)]
    [InlineData(new[] { "text_ft2_source_v2", "image_source" }, "text_ft2_source_v2")]
    [InlineData(new[] { "text_gdiplus_v3", "text_ft2_source_v2" }, "text_gdiplus_v3")]
    [InlineData(new[] { "text_gdiplus_v2", "text_ft2_source_v2" }, "text_gdiplus_v2")]
    public async Task SetCaption_MissingSource_CreatesOfferedTextKindInCurrentScene(string[] kinds, string expectedKind)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeObsServer.StartAsync(ct);
        server.InputKinds.Clear();
        server.InputKinds.AddRange(kinds);
        server.CurrentScene = "Live";
        await using var client = ObsClientTests.NewClient(server.Url, null);
        await using var output = NewOutput(client);
        output.Start();
        await client.WaitUntilConnectedAsync(ct);

        output.SetCaption("en", "Hello there", isFinal: true);

        await Poll.UntilAsync(() => TextOf(server, "Captions (en)") == "Hello there", "the source shows the text", ct);
        var input = server.Inputs["Captions (en)"];
        Assert.Equal(expectedKind, input.Kind);
        Assert.Equal("Live", input.Scene);
        Assert.Equal(48, input.Settings["font"]!["size"]!.GetValue<int>());
        Assert.True(input.Settings["outline"]!.GetValue<bool>());
        // The fake shows the text when CreateInput arrives; the output counts the source when OBS has answered.
        await Poll.UntilAsync(() => output.Statistics.SourcesCreated == 1, "the created source was counted", ct);
    }

    [Fact(Timeout = 30000)]
    public async Task SetCaption_ConfiguredSceneAndTemplate_CreatesThere()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeObsServer.StartAsync(ct);
        await using var client = ObsClientTests.NewClient(server.Url, null);
        await using var output = NewOutput(client, configure: o =>
        {
            o.SceneName = "Overlay";
            o.SourceNameTemplate = "CC {lang}";
        });
        output.Start();

        output.SetCaption("de", "Hallo", isFinal: true);

        await Poll.UntilAsync(() => TextOf(server, "CC de") == "Hallo", "the source shows the text", ct);
        Assert.Equal("Overlay", server.Inputs["CC de"].Scene);
        Assert.DoesNotContain(server.Requests, r => r.Type == "GetCurrentProgramScene");
    }

    [Fact(Timeout = 30000)]
    public async Task SetCaption_ExistingSource_OnlyTextIsSet()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeObsServer.StartAsync(ct);
        server.Inputs["Captions (en)"] = ("text_ft2_source_v2",
            new JsonObject { ["font"] = new JsonObject { ["face"] = "Comic", ["size"] = 99 }, ["color1"] = 123 }, "Scene");
        await using var client = ObsClientTests.NewClient(server.Url, null);
        await using var output = NewOutput(client);
        output.Start();

        output.SetCaption("en", "styled by the streamer", isFinal: true);

        await Poll.UntilAsync(() => TextOf(server, "Captions (en)") == "styled by the streamer", "the text arrived", ct);
        var settings = server.Inputs["Captions (en)"].Settings;
        Assert.Equal(99, settings["font"]!["size"]!.GetValue<int>());
        Assert.Equal(123, settings["color1"]!.GetValue<int>());
        Assert.DoesNotContain(server.Requests, r => r.Type == "CreateInput");
        var set = Assert.Single(server.Requests, r => r.Type == "SetInputSettings").Data!;
        Assert.True(set["overlay"]!.GetValue<bool>());
        Assert.Equal(["text"], set["inputSettings"]!.AsObject().Select(kv => kv.Key));
    }

    [Fact(Timeout = 30000)]
    public async Task SetCaption_BurstOfPartials_CoalescedLatestWinsAndFinalDelivered()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeObsServer.StartAsync(ct);
        var time = new FakeTimeProvider();
        await using var client = ObsClientTests.NewClient(server.Url, null, time);
        await using var output = NewOutput(client, time);
        output.Start();
        await client.WaitUntilConnectedAsync(ct);
        output.SetCaption("en", "p0");
        await Poll.UntilAsync(() => TextOf(server, "Captions (en)") == "p0", "the first partial arrived", ct);

        for (var i = 1; i <= 50; i++)
        {
            output.SetCaption("en", $"p{i}");
        }

        output.SetCaption("en", "the final line", isFinal: true);
        output.SetCaption("en", "next");

        // Fake time moves in small steps: at most one update per 1/15 s may go out.
        await Poll.UntilAsync(() =>
        {
            time.Advance(TimeSpan.FromMilliseconds(20));
            return SentTexts(server).Count >= 3;
        }, "the final and the latest partial arrived", ct);
        Assert.Equal(50, output.Statistics.Coalesced);

        // A last final drains the queue: the update loop sends in order, so anything else it sent would come before it.
        output.SetCaption("en", "sentinel", isFinal: true);
        await Poll.UntilAsync(() =>
        {
            time.Advance(TimeSpan.FromMilliseconds(20));
            return SentTexts(server).Contains("sentinel");
        }, "the sentinel arrived", ct);

        Assert.Equal(["p0", "the final line", "next", "sentinel"], SentTexts(server));
    }

    [Fact(Timeout = 30000)]
    public async Task SetCaption_ObsDown_DroppedThenCurrentCaptionResentOnReconnect()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeObsServer.StartAsync(ct);
        await using var client = ObsClientTests.NewClient(server.Url, null);
        await using var output = NewOutput(client);
        output.Start();
        output.SetCaption("en", "one", isFinal: true);
        await Poll.UntilAsync(() => TextOf(server, "Captions (en)") == "one", "the first line arrived", ct);

        server.Down = true;
        server.AbortAll();
        server.Inputs.Clear(); // OBS restarted without the source
        await Poll.UntilAsync(() => !client.IsConnected, "the client saw the drop", ct);
        output.SetCaption("en", "two", isFinal: true);
        output.SetCaption("en", "three");
        await Poll.UntilAsync(() => output.Statistics.Dropped >= 2, "updates were dropped", ct);

        server.Down = false;

        await Poll.UntilAsync(() => TextOf(server, "Captions (en)") == "three", "the current caption is back", ct);

        // The fake shows the text when it handles CreateInput; the output counts the source once OBS's answer is back.
        await Poll.UntilAsync(() => output.Statistics.SourcesCreated >= 2, "the output counted the source it created again", ct);
        Assert.Equal(2, output.Statistics.SourcesCreated);
    }

    [Fact(Timeout = 30000)]
    public async Task SetCaption_NativeLanguageWhileStreaming_SendsCea608SafeFinalFrames()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeObsServer.StartAsync(ct);
        server.Streaming = true;
        await using var client = ObsClientTests.NewClient(server.Url, null);
        await using var output = NewOutput(client, configure: o =>
        {
            o.NativeCaptionLanguage = "en";
            o.NativeCaptionMinDisplay = TimeSpan.FromMilliseconds(10);
            o.NativeCaptionMaxDisplay = TimeSpan.FromMilliseconds(20);
        });
        output.Start();
        await Poll.UntilAsync(() => output.IsStreaming, "the stream state was read at connect", ct);

        output.SetCaption("en", "a partial that must not go into the stream");
        output.SetCaption("en", "a final display text is not a stream caption either", isFinal: true);
        output.AddStreamCaption("de", "Deutsch geht nicht in den Stream");
        output.AddStreamCaption("en", "“Welcome” to the stream 👋, this sentence is longer than thirty-two columns.");

        static List<string> Captions(FakeObsServer s) =>
            s.Requests.Where(r => r.Type == "SendStreamCaption").Select(r => r.Data!["captionText"]!.GetValue<string>()).ToList();
        await Poll.UntilAsync(() => output.Statistics.StreamCaptionsSent == 2, "two caption frames were accepted", ct);
        Assert.Equal(["\"Welcome\" to the stream , this sentence is longer than", "thirty-two columns."], Captions(server));

        await server.EmitAsync("StreamStateChanged", 64, new JsonObject { ["outputActive"] = false, ["outputState"] = "OBS_WEBSOCKET_OUTPUT_STOPPED" });
        await Poll.UntilAsync(() => !output.IsStreaming, "the stream stopped", ct);
        output.SetCaption("en", "after the stream", isFinal: true);
        output.AddStreamCaption("en", "after the stream");
        await Poll.UntilAsync(() => TextOf(server, "Captions (en)") == "after the stream", "the text source still updates", ct);

        // The stream loop takes its inputs in order: once a line sent after the stream restarts arrives, the line sent
        // while it was stopped has been dealt with (dropped, not sent).
        await server.EmitAsync("StreamStateChanged", 64, new JsonObject { ["outputActive"] = true, ["outputState"] = "OBS_WEBSOCKET_OUTPUT_STARTED" });
        await Poll.UntilAsync(() => output.IsStreaming, "the stream started again", ct);
        output.AddStreamCaption("en", "sentinel");
        await Poll.UntilAsync(() => Captions(server).Contains("sentinel"), "the sentinel frame arrived", ct);
        Assert.Equal(["\"Welcome\" to the stream , this sentence is longer than", "thirty-two columns.", "sentinel"], Captions(server));
    }

    [Fact(Timeout = 30000)]
    public async Task AddStreamCaption_ObsRefusesTwice_RetriedThroughThePolicyThenSentOnce()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeObsServer.StartAsync(ct);
        server.Streaming = true;
        server.RefuseStreamCaptions = 2;
        await using var client = ObsClientTests.NewClient(server.Url, null);
        var retry = new CountingRetry();
        await using var output = NewOutput(client, configure: o =>
        {
            o.NativeCaptionLanguage = "en";
            o.Retry = retry.Pipeline;
        });
        output.Start();
        await Poll.UntilAsync(() => output.IsStreaming, "the stream state was read at connect", ct);

        output.AddStreamCaption("en", "hello");

        await Poll.UntilAsync(() => output.Statistics.StreamCaptionsSent == 1, "the frame was accepted", ct);
        Assert.Equal(2, retry.Count);
        Assert.Equal(["hello", "hello", "hello"],
            server.Requests.Where(r => r.Type == "SendStreamCaption").Select(r => r.Data!["captionText"]!.GetValue<string>()));
        Assert.Equal(0, output.Statistics.StreamCaptionsDropped);
    }

    [Fact(Timeout = 30000)]
    public async Task AddStreamCaption_Speakers_MarkerAtAChangeOfSpeakerAndNoneWithoutSpeaker()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeObsServer.StartAsync(ct);
        server.Streaming = true;
        await using var client = ObsClientTests.NewClient(server.Url, null);
        await using var output = NewOutput(client, configure: o =>
        {
            o.NativeCaptionLanguage = "en";
            o.NativeCaptionMinDisplay = TimeSpan.FromMilliseconds(10);
            o.NativeCaptionMaxDisplay = TimeSpan.FromMilliseconds(20);
            o.NativeCaptionBacklog = 10;
        });
        output.Start();
        await Poll.UntilAsync(() => output.IsStreaming, "the stream state was read at connect", ct);

        output.AddStreamCaption("en", "Welcome back, everyone, to the second half of the show.", "Alice");
        output.AddStreamCaption("en", "Glad to be here.", "Bob");
        output.AddStreamCaption("en", "Thanks.", "Bob");
        output.AddStreamCaption("en", "Let us start.", "Alice");
        output.AddStreamCaption("en", "No speaker named.");

        await Poll.UntilAsync(() => output.Statistics.StreamCaptionsSent == 6, "six caption frames were accepted", ct);
        // The marker is laid out with its line (the 32-column rows include it).
        Assert.Equal(
            [">> ALICE: Welcome back, everyone, to the second half of", "the show.", ">> BOB: Glad to be here.", "Thanks.",
             ">> ALICE: Let us start.", "No speaker named."],
            StreamCaptionTexts(server));
    }

    [Fact(Timeout = 30000)]
    public async Task AddStreamCaption_MarkedFrameRefused_NextFrameOfThatSpeakerCarriesTheMarker()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeObsServer.StartAsync(ct);
        server.Streaming = true;
        await using var client = ObsClientTests.NewClient(server.Url, null);
        await using var output = NewOutput(client, configure: o =>
        {
            o.NativeCaptionLanguage = "en";
            o.NativeCaptionMinDisplay = TimeSpan.FromMilliseconds(10);
            o.NativeCaptionMaxDisplay = TimeSpan.FromMilliseconds(20);
            o.Retry = ResiliencePipeline.Empty; // a refused frame is dropped at once
        });
        output.Start();
        await Poll.UntilAsync(() => output.IsStreaming, "the stream state was read at connect", ct);
        output.AddStreamCaption("en", "One.", "Alice");
        await Poll.UntilAsync(() => output.Statistics.StreamCaptionsSent == 1, "the first frame was accepted", ct);

        server.RefuseStreamCaptions = 1;
        output.AddStreamCaption("en", "Two.", "Bob");
        output.AddStreamCaption("en", "Three.", "Bob");

        await Poll.UntilAsync(() => output.Statistics.StreamCaptionsSent == 2, "the frame after the refused one was accepted", ct);
        Assert.Equal(1, output.Statistics.StreamCaptionsDropped);
        // Viewers never saw ">> BOB: Two.", so Bob's next caption names him.
        Assert.Equal([">> ALICE: One.", ">> BOB: Two.", ">> BOB: Three."], StreamCaptionTexts(server));
    }

    private static List<string> StreamCaptionTexts(FakeObsServer server) =>
        [.. server.Requests.Where(r => r.Type == "SendStreamCaption").Select(r => r.Data!["captionText"]!.GetValue<string>())];

    [Fact]
    public void DisplayTime_ShortAndLongFrames_ClampedToConfiguredRange()
    {
        var options = new ObsCaptionOutputOptions();

        Assert.Equal(TimeSpan.FromSeconds(1.5), StreamCaptions.DisplayTime(options, "Hi", waiting: 0));
        Assert.Equal(TimeSpan.FromSeconds(3), StreamCaptions.DisplayTime(options, new string('x', 64), waiting: 0));
        Assert.Equal(TimeSpan.FromSeconds(2), StreamCaptions.DisplayTime(options, new string('x', 34), waiting: 0));
        Assert.Equal(TimeSpan.FromSeconds(1.5), StreamCaptions.DisplayTime(options, new string('x', 64), waiting: 2));
    }

    [Fact(Timeout = 30000)]
    public async Task SetCaption_NoTextInputKind_WarnsOnceAndRetriesThroughThePolicy()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeObsServer.StartAsync(ct);
        server.InputKinds.Clear(); // this OBS has no text plugin
        server.InputKinds.Add("image_source");
        await using var client = ObsClientTests.NewClient(server.Url, null);
        var logger = new RecordingLogger<ObsCaptionOutput>();
        var retry = new CountingRetry();
        await using var output = new ObsCaptionOutput(client, Options.Create(new ObsCaptionOutputOptions { Retry = retry.Pipeline }), logger,
            TimeProvider.System);
        output.Start();

        output.SetCaption("en", "nowhere to show this", isFinal: true);

        await Poll.UntilAsync(() => retry.Count >= 2, "the output retried through the policy", ct);
        Assert.True(server.Requests.Count(r => r.Type == "GetInputKindList") >= 2);
        var warnings = logger.Entries.Where(e => e.Level == Microsoft.Extensions.Logging.LogLevel.Warning).ToList();
        var warning = Assert.Single(warnings);
        Assert.Contains("no text input kind", warning.Message, StringComparison.Ordinal);
        Assert.Empty(server.Inputs);
    }

    [Fact(Timeout = 30000)]
    public async Task AddObsBridge_ServiceProvider_ResolvesClientAndOutput()
    {
        var ct = TestContext.Current.CancellationToken;
        var services = new Microsoft.Extensions.DependencyInjection.ServiceCollection();
        Microsoft.Extensions.DependencyInjection.LoggingServiceCollectionExtensions.AddLogging(services);
        services.AddObsBridge(c => c.Url = new Uri("ws://127.0.0.1:4466"), o => o.NativeCaptionLanguage = "en");
        var provider = Microsoft.Extensions.DependencyInjection.ServiceCollectionContainerBuilderExtensions.BuildServiceProvider(services);

        var output = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<ObsCaptionOutput>(provider);
        var client = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<ObsClient>(provider);

        Assert.Equal("Captions (fr)", output.SourceName("fr"));
        Assert.Equal(ObsConnectionState.Stopped, client.Status.State);
        await provider.DisposeAsync().AsTask().WaitAsync(ct);
    }

    /// <summary>A retry pipeline that retries at once (1 ms apart, without limit) and counts its retries.</summary>
    private sealed class CountingRetry
    {
        private int _count;

        public CountingRetry() => Pipeline = new ResiliencePipelineBuilder()
            .AddRetry(new Polly.Retry.RetryStrategyOptions
            {
                MaxRetryAttempts = int.MaxValue,
                Delay = TimeSpan.FromMilliseconds(1),
                BackoffType = DelayBackoffType.Constant,
                OnRetry = _ =>
                {
                    Interlocked.Increment(ref _count);
                    return default;
                },
            })
            .Build();

        public ResiliencePipeline Pipeline { get; }

        /// <summary>Retries so far.</summary>
        public int Count => Volatile.Read(ref _count);
    }
}
