using System.Net.Http.Headers;
using System.Text;
using System.Threading.Channels;
using CaptionSidecar.Audio;
using CaptionSidecar.FakeRealtime;
using CaptionSidecar.Realtime;
using CaptionSidecar.Retries;
using CaptionSidecar.Tests.Support;
using CaptionSidecar.Tracks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CaptionSidecar.Tests.Realtime;

/// <summary>
/// The connector against a hostile fake server: HTTP errors at the upgrade keep their status, message and
/// Retry-After, each connect is one upgrade request, and an oversized server message is skipped, not buffered.
/// </summary>
public sealed class RealtimeConnectorEdgeTests
{
    [Fact(Timeout = 30000)]
    public async Task Connect_429WithRetryAfter_NamesTheStatusAndTheServiceMessageAndAsksForTheWait()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeRealtimeServer.StartAsync(new FakeRealtimeOptions { RefuseUpgrades = UpgradeRefusal.TooManyRequests(TimeSpan.FromSeconds(1)) }, ct);

        var ex = await Assert.ThrowsAsync<RealtimeConnectException>(() => Connector(server).ConnectAsync(RealtimeSessionKind.Transcription, ct));

        Assert.Contains("429 Too Many Requests", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Rate limit reached for requests", ex.Message, StringComparison.Ordinal);
        Assert.Equal(429, ex.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), Assert.IsAssignableFrom<IRetryAfter>(ex).RetryAfter);
        Assert.Equal(1, server.UpgradeRequests);
    }

    [Fact(Timeout = 30000)]
    public async Task Connect_500WithAnOpenAiErrorBody_NamesTheStatusAndTheServiceMessage()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeRealtimeServer.StartAsync(new FakeRealtimeOptions { RefuseUpgrades = UpgradeRefusal.ServerError() }, ct);

        var ex = await Assert.ThrowsAsync<RealtimeConnectException>(() => Connector(server).ConnectAsync(RealtimeSessionKind.Translation, ct));

        Assert.Contains("500 Internal Server Error", ex.Message, StringComparison.Ordinal);
        Assert.Contains("The server had an error while processing your request", ex.Message, StringComparison.Ordinal);
        Assert.Null(ex.RetryAfter);
        Assert.Equal(1, server.UpgradeRequests);
    }

    [Fact(Timeout = 30000)]
    public async Task Connect_WrongKey_StopsWithTheAuthenticationErrorAndTheServiceMessage()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeRealtimeServer.StartAsync(new FakeRealtimeOptions(), ct);
        var options = FakeServerTrackOptions.For(server.Endpoint, o => o.ApiKey = "wrong-key");

        var ex = await Assert.ThrowsAsync<RealtimeAuthenticationException>(
            () => new OpenAiRealtimeConnector(Options.Create(options)).ConnectAsync(RealtimeSessionKind.Transcription, ct));

        Assert.Contains("401 Unauthorized", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Incorrect API key provided", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-key", ex.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30000)]
    public async Task Connect_ServerHangsUpWithoutAnswering_OneUpgradeRequestPerConnect()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeRealtimeServer.StartAsync(new FakeRealtimeOptions { HangUpUpgrades = true }, ct);

        var ex = await Assert.ThrowsAsync<RealtimeConnectException>(() => Connector(server).ConnectAsync(RealtimeSessionKind.Transcription, ct));

        // The runtime's HTTP handler sent such a request up to four times back to back; the track's backoff decides instead.
        Assert.Equal(1, server.UpgradeRequests);
        Assert.Contains("without answering", ex.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30000)]
    public async Task Receive_MessageLargerThanTheLimit_IsSkippedWithAWarningAndTheNextOneArrives()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeRealtimeServer.StartAsync(new FakeRealtimeOptions(), ct);
        var logger = new ListLogger<OpenAiRealtimeConnector>();
        var options = FakeServerTrackOptions.For(server.Endpoint, o => o.MaxServerMessageBytes = 64 * 1024);
        await using var connection = await new OpenAiRealtimeConnector(Options.Create(options), logger, TimeProvider.System)
            .ConnectAsync(RealtimeSessionKind.Transcription, ct);
        await using var messages = connection.ReceiveAsync(ct).GetAsyncEnumerator(ct);

        Assert.True(await messages.MoveNextAsync());
        Assert.Contains("session.created", messages.Current.ToString(), StringComparison.Ordinal);
        await server.Faults.SendOversizedMessageAsync(3 * 1024 * 1024);
        await server.Faults.SendRateLimitsAsync();

        Assert.True(await messages.MoveNextAsync());
        Assert.Contains("rate_limits.updated", messages.Current.ToString(), StringComparison.Ordinal);
        var warning = Assert.Single(logger.Entries, e => e.Level == LogLevel.Warning);
        Assert.Contains("'conversation.item.input_audio_transcription.delta'", warning.Message, StringComparison.Ordinal);
        Assert.Contains("Realtime:MaxServerMessageBytes (65536)", warning.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60000)]
    public async Task Track_EveryTurnStartsWithAnOversizedDelta_SessionSurvivesAndCaptionsEachTurnWithoutIt()
    {
        var ct = TestContext.Current.CancellationToken;
        string[] lines = ["First line of the stream.", "Second line right here."];
        await using var server = await FakeRealtimeServer.StartAsync(
            new FakeRealtimeOptions { Script = FakeScript.FromLines(lines), WordDelay = TimeSpan.FromMilliseconds(1), OversizedMessageBytes = 3 * 1024 * 1024 }, ct);
        var options = FakeServerTrackOptions.For(server.Endpoint, o => o.MaxServerMessageBytes = 1024 * 1024);
        var track = new RealtimeTranscriptionTrack(new CaptionLanguage("en", IsSource: true), options, new OpenAiRealtimeConnector(Options.Create(options)), NullLogger.Instance, TimeProvider.System);
        var audio = new ToneAudio();
        var chunks = Channel.CreateUnbounded<AudioChunk>();
        var captions = new RecordingCaptionInput();
        foreach (var chunk in audio.Tone(TimeSpan.FromMilliseconds(800)).Concat(audio.Silence(TimeSpan.FromMilliseconds(1000))).Concat(audio.Tone(TimeSpan.FromMilliseconds(800))).Concat(audio.Silence(TimeSpan.FromMilliseconds(1000))))
        {
            await chunks.Writer.WriteAsync(chunk, ct);
        }

        chunks.Writer.Complete();
        await track.RunAsync(chunks.Reader, captions, ct);

        Assert.Equal(lines, captions.CompletedInTurnOrder());
        Assert.Equal(lines, captions.Commits.Select(c => captions.DeltasOf(c.ItemId)));
        Assert.Equal(0, track.Status.Reconnects);
        Assert.Single(server.Sessions);
    }

    [Theory]
    [InlineData("http://127.0.0.1:8089/v1", RealtimeSessionKind.Transcription, "ws://127.0.0.1:8089/v1/realtime?intent=transcription")]
    [InlineData("https://api.openai.com/v1", RealtimeSessionKind.Translation, "wss://api.openai.com/v1/realtime?model=gpt-realtime")]
    [InlineData("wss://x.openai.azure.com/openai/v1/", RealtimeSessionKind.Translation, "wss://x.openai.azure.com/openai/v1/realtime?model=gpt-realtime")]
    [InlineData("https://example.com/v1/realtime?old=1", RealtimeSessionKind.Transcription, "wss://example.com/v1/realtime?intent=transcription")]
    public void SessionUri_EndpointAndKind_TheServiceUrl(string endpoint, RealtimeSessionKind kind, string expected)
    {
        Assert.Equal(new Uri(expected), OpenAiRealtimeConnector.SessionUri(new Uri(endpoint), kind, "gpt-realtime"));
    }

    [Theory]
    [InlineData("{\"type\":\"response.done\",\"response\":{\"output\":[", "response.done")]
    [InlineData("{\"event_id\":\"e1\",\"session\":{\"type\":\"inner\"},\"type\":\"session.created\"", "session.created")]
    [InlineData("{\"delta\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "unknown")]
    [InlineData("not json at all", "unknown")]
    public void EventType_StartOfAMessage_NamesItsTopLevelType(string start, string expected)
    {
        Assert.Equal(expected, OpenAiRealtimeConnector.EventType(Encoding.UTF8.GetBytes(start)));
    }

    [Theory]
    [InlineData("{\"error\":{\"message\":\"Rate limit reached.\",\"type\":\"requests\",\"param\":null,\"code\":\"rate_limit_exceeded\"}}", "application/json", "Rate limit reached. (rate_limit_exceeded)")]
    [InlineData("{\"error\":{\"message\":\"Bad\\nkey sk-secret\",\"code\":null}}", "application/json", "Bad key ***")]
    [InlineData("upstream connect error", "text/plain", "upstream connect error")]
    [InlineData("<html><body>502 Bad Gateway</body></html>", "text/html", null)]
    [InlineData("", "application/json", null)]
    public void Message_ErrorBodies_OneReadableLineWithoutTheKey(string body, string mediaType, string? expected)
    {
        Assert.Equal(expected, RefusedUpgrade.Message(Encoding.UTF8.GetBytes(body), mediaType, "sk-secret"));
    }

    [Fact]
    public void Wait_RetryAfterAsSecondsOrDate_AWaitFromNowNeverNegative()
    {
        var now = new DateTimeOffset(2026, 12, 2, 15, 0, 0, TimeSpan.Zero);

        Assert.Equal(TimeSpan.FromSeconds(2), RefusedUpgrade.Wait(new RetryConditionHeaderValue(TimeSpan.FromSeconds(2)), now));
        Assert.Equal(TimeSpan.FromSeconds(30), RefusedUpgrade.Wait(new RetryConditionHeaderValue(now.AddSeconds(30)), now));
        Assert.Equal(TimeSpan.Zero, RefusedUpgrade.Wait(new RetryConditionHeaderValue(now.AddSeconds(-30)), now));
        Assert.Null(RefusedUpgrade.Wait(null, now));
    }

    [Theory]
    [InlineData(1024, false)]
    [InlineData(1024 * 1024, true)]
    [InlineData(int.MaxValue, false)]
    public void Validate_MaxServerMessageBytes_BoundedAndNamed(int bytes, bool valid)
    {
        var options = new RealtimeOptions { MaxServerMessageBytes = bytes };
        var results = new List<System.ComponentModel.DataAnnotations.ValidationResult>();
        System.ComponentModel.DataAnnotations.Validator.TryValidateObject(options, new(options), results, validateAllProperties: true);

        Assert.Equal(valid, results.Count == 0);
        Assert.All(results, r => Assert.StartsWith("Realtime:MaxServerMessageBytes must be between", r.ErrorMessage, StringComparison.Ordinal));
        Assert.Equal(8 * 1024 * 1024, new RealtimeOptions().MaxServerMessageBytes);
    }

    private static OpenAiRealtimeConnector Connector(FakeRealtimeServer server) =>
        new(Options.Create(FakeServerTrackOptions.For(server.Endpoint)));
}
