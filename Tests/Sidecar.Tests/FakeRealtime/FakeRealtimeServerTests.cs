using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using CaptionSidecar.FakeRealtime;
using Microsoft.Extensions.Time.Testing;
using OpenAI.Realtime;

namespace CaptionSidecar.Tests.FakeRealtime;

/// <summary>The fake Realtime server speaks the GA protocol of docs/reference exactly, checked with a raw WebSocket client.</summary>
public sealed class FakeRealtimeServerTests : IAsyncLifetime
{
    private static readonly string[] Script = ["Hello and welcome to the stream.", "Today we   try the new map, okay?"];
    private FakeRealtimeServer _server = null!;

    public async ValueTask InitializeAsync() =>
        _server = await FakeRealtimeServer.StartAsync(new FakeRealtimeOptions { Script = FakeScript.FromLines(Script), WordDelay = TimeSpan.FromMilliseconds(5) }, TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();

        // Some tests send broken client events on purpose; whatever the fake answered must match the service's schemas.
        Assert.DoesNotContain(_server.SchemaViolations, v => v.Contains(": server event", StringComparison.Ordinal));
    }

    [Theory(Timeout = 30000)]
    [InlineData(null)]
    [InlineData("wrong-key")]
    public async Task Connect_MissingOrWrongKey_Http401BeforeUpgradeAndNoSession(string? key)
    {
        var ct = TestContext.Current.CancellationToken;
        using var socket = RealtimeTestClient.CreateSocket(key);
        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(RealtimeTestClient.RealtimeUri(_server), ct));
        Assert.Equal(HttpStatusCode.Unauthorized, socket.HttpStatusCode);

        using var http = new HttpClient();
        using var response = await http.GetAsync(new Uri(_server.Endpoint + "/realtime"), ct);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync(ct))!["error"]!;
        Assert.Equal("invalid_api_key", error["code"]!.GetValue<string>());
        Assert.Equal("invalid_request_error", error["type"]!.GetValue<string>());
        Assert.Empty(_server.Sessions);
    }

    [Fact(Timeout = 30000)]
    public async Task Connect_OtherPathOrRejecting_404Or503()
    {
        var ct = TestContext.Current.CancellationToken;
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Add("Authorization", "Bearer test-key");
        using var notFound = await http.GetAsync(new Uri(_server.Endpoint + "/chat/completions"), ct);
        Assert.Equal(HttpStatusCode.NotFound, notFound.StatusCode);

        _server.RejectConnections = true;
        using var socket = RealtimeTestClient.CreateSocket("test-key");
        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(RealtimeTestClient.RealtimeUri(_server), ct));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, socket.HttpStatusCode);
        Assert.Empty(_server.Sessions);
    }

    [Fact(Timeout = 30000)]
    public async Task Connect_TranscriptionIntent_SessionCreatedFirstWithDefaults()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var client = await RealtimeTestClient.ConnectAsync(_server, ct);

        var created = await client.ReceiveEventAsync(ct);

        Assert.Equal("session.created", RealtimeTestClient.Type(created));
        Assert.StartsWith("event_", created["event_id"]!.GetValue<string>(), StringComparison.Ordinal);
        var session = created["session"]!;
        Assert.Equal("transcription", session["type"]!.GetValue<string>());
        Assert.StartsWith("sess_", session["id"]!.GetValue<string>(), StringComparison.Ordinal);
        var expiresIn = session["expires_at"]!.GetValue<long>() - DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        Assert.InRange(expiresIn, 3500, 3601);
        var input = session["audio"]!["input"]!;
        Assert.Equal("audio/pcm", input["format"]!["type"]!.GetValue<string>());
        Assert.Equal(24000, input["format"]!["rate"]!.GetValue<int>());
        Assert.Null(input["transcription"]);
        Assert.Null(input["noise_reduction"]);
        Assert.Equal("server_vad", input["turn_detection"]!["type"]!.GetValue<string>());
        var recorded = Assert.Single(_server.Sessions);
        Assert.Equal(FakeSessionType.Transcription, recorded.SessionType);
        Assert.Equal("transcription", recorded.Intent);
        Assert.Equal(session["id"]!.GetValue<string>(), recorded.Id);
    }

    [Fact(Timeout = 30000)]
    public async Task SessionUpdate_WithoutTypeOrWithRate16000_ErrorEchoesEventIdAndNamesParam()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var client = await RealtimeTestClient.ConnectAsync(_server, ct);
        await client.ReceiveEventAsync(ct);

        await client.SendAsync(Update("cfg-1", new JsonObject { ["audio"] = new JsonObject() }), ct);
        var missingType = await client.ReceiveEventAsync(ct);
        await client.SendAsync(Update("cfg-2", new JsonObject
        {
            ["type"] = "transcription",
            ["audio"] = new JsonObject { ["input"] = new JsonObject { ["format"] = new JsonObject { ["type"] = "audio/pcm", ["rate"] = 16000 } } },
        }), ct);
        var wrongRate = await client.ReceiveEventAsync(ct);
        await client.SendAsync(Update("cfg-3", new JsonObject { ["type"] = "realtime" }), ct);
        var wrongType = await client.ReceiveEventAsync(ct);

        AssertError(missingType, "missing_required_parameter", "session.type", "cfg-1");
        AssertError(wrongRate, "invalid_value", "session.audio.input.format.rate", "cfg-2");
        AssertError(wrongType, "invalid_value", "session.type", "cfg-3");
        Assert.Equal("transcription", JsonNode.Parse(_server.Sessions[0].SessionConfig)!["type"]!.GetValue<string>());
    }

    [Fact(Timeout = 30000)]
    public async Task SessionUpdate_Valid_SessionUpdatedWithFullMergedConfig()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var client = await RealtimeTestClient.ConnectAsync(_server, ct);
        await client.ReceiveEventAsync(ct);

        await client.SendAsync(TranscriptionUpdate(turnDetection: new JsonObject { ["type"] = "server_vad", ["silence_duration_ms"] = 700 }), ct);
        var updated = await client.ReceiveEventAsync(ct);

        Assert.Equal("session.updated", RealtimeTestClient.Type(updated));
        var input = updated["session"]!["audio"]!["input"]!;
        Assert.Equal("gpt-4o-transcribe", input["transcription"]!["model"]!.GetValue<string>());
        Assert.Equal(700, input["turn_detection"]!["silence_duration_ms"]!.GetValue<int>());
        Assert.Equal(300, input["turn_detection"]!["prefix_padding_ms"]!.GetValue<int>());
        Assert.Equal(24000, input["format"]!["rate"]!.GetValue<int>());
        Assert.NotNull(updated["session"]!["expires_at"]);
        Assert.Equal(updated["session"]!.ToJsonString(), _server.Sessions[0].SessionConfig);
    }

    [Theory(Timeout = 30000)]
    [InlineData("not base64 at all!")]
    [InlineData("AAAA")]
    public async Task Append_InvalidBase64OrOddByteCount_ErrorWithAudioParam(string audio)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var client = await RealtimeTestClient.ConnectAsync(_server, ct);
        await client.ReceiveEventAsync(ct);

        await client.SendAsync(new JsonObject { ["type"] = "input_audio_buffer.append", ["event_id"] = "a-1", ["audio"] = audio }, ct);
        var error = await client.ReceiveEventAsync(ct);

        AssertError(error, "invalid_value", "audio", "a-1");
        Assert.Equal(0, _server.Sessions[0].AppendedBytes);
    }

    [Fact(Timeout = 30000)]
    public async Task Append_TwoToneBursts_TwoVadTurnsWithScriptedTranscriptsInOrder()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var client = await RealtimeTestClient.ConnectAsync(_server, ct);
        await client.ReceiveEventAsync(ct);
        await client.SendAsync(TranscriptionUpdate(turnDetection: new JsonObject
        {
            ["type"] = "server_vad", ["prefix_padding_ms"] = 300, ["silence_duration_ms"] = 500,
        }), ct);
        await client.ReceiveUntilAsync("session.updated", ct);

        // Tone edges at 300, 1100, 2100 and 2900 ms; a 50 ms blip at 1700 ms (after the first turn ended) is no speech.
        await client.AppendAudioAsync(Pcm16.Concat(
            Pcm16.Silence(300), Pcm16.Tone(800), Pcm16.Silence(600), Pcm16.Tone(50), Pcm16.Silence(350), Pcm16.Tone(800), Pcm16.Silence(1000)), ct);
        var events = await client.ReceiveUntilAsync("conversation.item.input_audio_transcription.completed", ct, count: 2);

        var types = events.Select(RealtimeTestClient.Type).ToList();
        Assert.DoesNotContain("error", types);
        var started = events.Where(e => RealtimeTestClient.Type(e) == "input_audio_buffer.speech_started").ToList();
        var stopped = events.Where(e => RealtimeTestClient.Type(e) == "input_audio_buffer.speech_stopped").ToList();
        var committed = events.Where(e => RealtimeTestClient.Type(e) == "input_audio_buffer.committed").ToList();
        Assert.Equal(2, started.Count);
        Assert.Equal(2, stopped.Count);
        Assert.Equal(2, committed.Count);

        // Start = voice onset minus 300 ms padding, not before the buffer start (0, then 1100 + 500 ms silence).
        Assert.InRange(started[0]["audio_start_ms"]!.GetValue<long>(), 0, 30);
        Assert.InRange(stopped[0]["audio_end_ms"]!.GetValue<long>(), 1070, 1130);
        Assert.InRange(started[1]["audio_start_ms"]!.GetValue<long>(), 1770, 1830);
        Assert.InRange(stopped[1]["audio_end_ms"]!.GetValue<long>(), 2870, 2930);

        var firstItem = committed[0]["item_id"]!.GetValue<string>();
        var secondItem = committed[1]["item_id"]!.GetValue<string>();
        Assert.StartsWith("item_", firstItem, StringComparison.Ordinal);
        Assert.Null(committed[0]["previous_item_id"]);
        Assert.Equal(firstItem, committed[1]["previous_item_id"]!.GetValue<string>());
        Assert.Equal(firstItem, started[0]["item_id"]!.GetValue<string>());
        Assert.Equal(secondItem, stopped[1]["item_id"]!.GetValue<string>());

        // Each turn: speech_stopped, committed, item added, item done, in that order.
        var firstStop = events.IndexOf(stopped[0]);
        Assert.Equal(
            ["input_audio_buffer.committed", "conversation.item.added", "conversation.item.done"],
            types.Skip(firstStop + 1).Take(3).ToArray());
        var added = events[firstStop + 2]["item"]!;
        Assert.Equal("user", added["role"]!.GetValue<string>());
        Assert.Equal("input_audio", added["content"]![0]!["type"]!.GetValue<string>());

        Assert.Equal(Script[0], TranscriptOf(events, firstItem));
        Assert.Equal(Script[1], TranscriptOf(events, secondItem));
        var session = _server.Sessions[0];
        Assert.Equal(2, session.SpeechSpans.Count);
        Assert.Equal(Pcm16.SampleRate * 2 * 3.9, session.AppendedBytes);
        Assert.Equal(Script, session.CompletedTranscripts.Order().ToArray(), StringComparer.Ordinal);
    }

    [Fact(Timeout = 30000)]
    public async Task Commit_ManualModeWith50ms_CommitEmptyThenCommitsAfter150ms()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var client = await RealtimeTestClient.ConnectAsync(_server, ct);
        await client.ReceiveEventAsync(ct);
        await client.SendAsync(TranscriptionUpdate(turnDetection: null), ct);
        var updated = await client.ReceiveEventAsync(ct);
        Assert.Null(updated["session"]!["audio"]!["input"]!["turn_detection"]);

        await client.AppendAudioAsync(Pcm16.Tone(50), ct);
        await client.SendAsync(new JsonObject { ["type"] = "input_audio_buffer.commit", ["event_id"] = "c-1" }, ct);
        var empty = await client.ReceiveEventAsync(ct);
        await client.AppendAudioAsync(Pcm16.Tone(100), ct);
        await client.SendAsync(new JsonObject { ["type"] = "input_audio_buffer.commit", ["event_id"] = "c-2" }, ct);
        var events = await client.ReceiveUntilAsync("conversation.item.input_audio_transcription.completed", ct);

        AssertError(empty, "input_audio_buffer_commit_empty", null, "c-1");
        Assert.Contains("buffer only has 50.00ms of audio", empty["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("input_audio_buffer.committed", RealtimeTestClient.Type(events[0]));
        Assert.DoesNotContain(events, e => RealtimeTestClient.Type(e) == "input_audio_buffer.speech_started");
        Assert.Equal(Script[0], events[^1]["transcript"]!.GetValue<string>());
        Assert.Empty(_server.Sessions[0].SpeechSpans);
    }

    [Fact(Timeout = 30000)]
    public async Task Receive_UnknownTypeBinaryOrNonJson_ErrorAndSessionStaysUsable()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var client = await RealtimeTestClient.ConnectAsync(_server, ct);
        await client.ReceiveEventAsync(ct);

        await client.SendAsync(new JsonObject { ["type"] = "input_audio_buffer.frobnicate", ["event_id"] = "u-1" }, ct);
        var unknown = await client.ReceiveEventAsync(ct);
        await client.SendBinaryAsync([1, 2, 3, 4], ct);
        var binary = await client.ReceiveEventAsync(ct);
        await client.SendTextAsync("{not json", ct);
        var notJson = await client.ReceiveEventAsync(ct);
        await client.SendAsync(new JsonObject { ["type"] = "input_audio_buffer.clear" }, ct);
        var cleared = await client.ReceiveEventAsync(ct);

        AssertError(unknown, "invalid_value", "type", "u-1");
        Assert.Equal("error", RealtimeTestClient.Type(binary));
        Assert.Equal("error", RealtimeTestClient.Type(notJson));
        Assert.Equal("input_audio_buffer.cleared", RealtimeTestClient.Type(cleared));
        Assert.True(_server.Sessions[0].IsOpen);
        Assert.Equal(["input_audio_buffer.frobnicate", "(binary)", "(invalid)", "input_audio_buffer.clear"], _server.Sessions[0].ClientEventTypes);
    }

    [Fact(Timeout = 30000)]
    public async Task Faults_MalformedJsonAndRateLimits_ArriveAndSessionContinues()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var client = await RealtimeTestClient.ConnectAsync(_server, ct);
        await client.ReceiveEventAsync(ct);

        await _server.Faults.SendMalformedJsonAsync();
        var malformed = await client.ReceiveTextAsync(ct);
        await _server.Faults.SendRateLimitsAsync();
        var rateLimits = await client.ReceiveEventAsync(ct);

        Assert.NotNull(malformed);
        Assert.ThrowsAny<JsonException>(() => JsonDocument.Parse(malformed).Dispose());
        Assert.Equal("rate_limits.updated", RealtimeTestClient.Type(rateLimits));
        Assert.Equal(2, rateLimits["rate_limits"]!.AsArray().Count);
        Assert.True(_server.Sessions[0].IsOpen);
    }

    [Fact(Timeout = 30000)]
    public async Task Faults_ExpireSessions_SessionExpiredErrorThenClose1001()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var client = await RealtimeTestClient.ConnectAsync(_server, ct);
        await client.ReceiveEventAsync(ct);

        await _server.Faults.ExpireSessionsAsync();
        var error = await client.ReceiveEventAsync(ct);
        var afterError = await client.ReceiveTextAsync(ct);
        await client.CloseAsync(ct);

        AssertError(error, "session_expired", null, null);
        Assert.Equal("invalid_request_error", error["error"]!["type"]!.GetValue<string>());
        Assert.Equal("Your session hit the maximum duration of 60 minutes.", error["error"]!["message"]!.GetValue<string>());
        Assert.Null(afterError);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, client.CloseStatus);
        await _server.WaitForSessionsAsync(s => !s[0].IsOpen, TimeSpan.FromSeconds(10));
    }

    [Fact(Timeout = 30000)]
    public async Task SessionLifetime_Passes_SessionExpiresByItself()
    {
        var ct = TestContext.Current.CancellationToken;
        var clock = new FakeTimeProvider(DateTimeOffset.UnixEpoch.AddDays(20000));
        await using var server = await FakeRealtimeServer.StartAsync(new FakeRealtimeOptions { SessionLifetime = TimeSpan.FromMinutes(2), TimeProvider = clock }, ct);
        await using var client = await RealtimeTestClient.ConnectAsync(server, ct);
        var created = await client.ReceiveEventAsync(ct);

        clock.Advance(TimeSpan.FromMinutes(2));
        var error = await client.ReceiveEventAsync(ct);
        var afterError = await client.ReceiveTextAsync(ct);

        Assert.Equal(clock.GetUtcNow().ToUnixTimeSeconds(), created["session"]!["expires_at"]!.GetValue<long>());
        AssertError(error, "session_expired", null, null);
        Assert.Equal("Your session hit the maximum duration of 2 minutes.", error["error"]!["message"]!.GetValue<string>());
        Assert.Null(afterError);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, client.CloseStatus);
    }

    [Fact(Timeout = 30000)]
    public async Task Faults_DropConnections_ClientSeesNoCloseFrameAndSessionEnds()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var client = await RealtimeTestClient.ConnectAsync(_server, ct);
        await client.ReceiveEventAsync(ct);

        await _server.Faults.DropConnectionsAsync();

        await Assert.ThrowsAsync<WebSocketException>(() => client.ReceiveTextAsync(ct));
        Assert.Null(client.CloseStatus);
        await _server.WaitForSessionsAsync(s => !s[0].IsOpen, TimeSpan.FromSeconds(10));
    }

    [Fact(Timeout = 30000)]
    public async Task Script_SharedAcrossSessionsAndRunsOut_ContinuesThenUnscripted()
    {
        var ct = TestContext.Current.CancellationToken;
        var script = FakeScript.FromLines(["one", " ", "two"]);
        await using var server = await FakeRealtimeServer.StartAsync(new FakeRealtimeOptions { Script = script, WordDelay = TimeSpan.Zero }, ct);
        var transcripts = new List<string>();
        for (var session = 0; session < 2; session++)
        {
            await using var client = await RealtimeTestClient.ConnectAsync(server, ct);
            await client.ReceiveEventAsync(ct);
            await client.SendAsync(TranscriptionUpdate(turnDetection: null), ct);
            for (var turn = 0; turn < 2; turn++)
            {
                await client.AppendAudioAsync(Pcm16.Tone(100), ct);
                await client.SendAsync(new JsonObject { ["type"] = "input_audio_buffer.commit" }, ct);
                var events = await client.ReceiveUntilAsync("conversation.item.input_audio_transcription.completed", ct);
                transcripts.Add(events[^1]["transcript"]!.GetValue<string>());
            }

            await client.CloseAsync(ct);
        }

        Assert.Equal(["one", "two", "(unscripted turn 3)", "(unscripted turn 4)"], transcripts);
        Assert.Equal(2, server.Sessions.Count);
    }

    [Fact(Timeout = 30000)]
    public async Task TurnFailureEvery_Two_SecondTurnGetsTranscriptionFailed()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeRealtimeServer.StartAsync(new FakeRealtimeOptions { TurnFailureEvery = 2, WordDelay = TimeSpan.Zero }, ct);
        await using var client = await RealtimeTestClient.ConnectAsync(server, ct);
        await client.ReceiveEventAsync(ct);
        await client.SendAsync(TranscriptionUpdate(turnDetection: null), ct);
        var outcomes = new List<JsonObject>();
        for (var turn = 0; turn < 2; turn++)
        {
            await client.AppendAudioAsync(Pcm16.Tone(100), ct);
            await client.SendAsync(new JsonObject { ["type"] = "input_audio_buffer.commit" }, ct);
            var events = await client.ReceiveUntilAsync("conversation.item.done", ct);
            var itemId = events[^1]["item"]!["id"]!.GetValue<string>();
            JsonObject outcome;
            do
            {
                outcome = await client.ReceiveEventAsync(ct);
            }
            while (RealtimeTestClient.Type(outcome) == "conversation.item.input_audio_transcription.delta");

            Assert.Equal(itemId, outcome["item_id"]!.GetValue<string>());
            outcomes.Add(outcome);
        }

        Assert.Equal("conversation.item.input_audio_transcription.completed", RealtimeTestClient.Type(outcomes[0]));
        Assert.Equal("conversation.item.input_audio_transcription.failed", RealtimeTestClient.Type(outcomes[1]));
        Assert.Equal("transcription_error", outcomes[1]["error"]!["type"]!.GetValue<string>());
        Assert.Equal(["(unscripted turn 1)"], server.Sessions[0].CompletedTranscripts);
    }

    [Fact(Timeout = 30000)]
    public async Task Connect_ModelQuery_RealtimeSessionRejectsTranscriptionShapes()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var client = await RealtimeTestClient.ConnectAsync(_server, ct, query: "model=gpt-realtime");
        var created = await client.ReceiveEventAsync(ct);
        await client.SendAsync(new JsonObject
        {
            ["type"] = "session.update",
            ["session"] = new JsonObject { ["type"] = "realtime", ["output_modalities"] = new JsonArray("text"), ["instructions"] = "Translate into German." },
        }, ct);
        var updated = await client.ReceiveEventAsync(ct);
        await client.SendAsync(Update("cfg-t", new JsonObject { ["type"] = "transcription" }), ct);
        var wrongType = await client.ReceiveEventAsync(ct);
        await client.SendAsync(new JsonObject { ["type"] = "transcription_session.update", ["event_id"] = "beta-1", ["session"] = new JsonObject() }, ct);
        var beta = await client.ReceiveEventAsync(ct);

        Assert.Equal("realtime", created["session"]!["type"]!.GetValue<string>());
        Assert.Equal("gpt-realtime", created["session"]!["model"]!.GetValue<string>());
        Assert.Equal("session.updated", RealtimeTestClient.Type(updated));
        Assert.Equal("text", updated["session"]!["output_modalities"]![0]!.GetValue<string>());
        Assert.Equal("Translate into German.", updated["session"]!["instructions"]!.GetValue<string>());
        AssertError(wrongType, "invalid_value", "session.type", "cfg-t");
        AssertError(beta, "invalid_value", "type", "beta-1");
        var session = Assert.Single(_server.Sessions);
        Assert.Equal(FakeSessionType.Realtime, session.SessionType);
        Assert.Equal("gpt-realtime", session.Model);
    }

    [Fact(Timeout = 30000)]
    public async Task TranscriptionSessionUpdate_BetaShape_RepliesTranscriptionSessionUpdated()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var client = await RealtimeTestClient.ConnectAsync(_server, ct);
        await client.ReceiveEventAsync(ct);

        await client.SendAsync(new JsonObject
        {
            ["type"] = "transcription_session.update",
            ["session"] = new JsonObject
            {
                ["input_audio_format"] = "pcm16",
                ["input_audio_transcription"] = new JsonObject { ["model"] = "gpt-4o-transcribe", ["language"] = "en" },
                ["turn_detection"] = null,
            },
        }, ct);
        var updated = await client.ReceiveEventAsync(ct);

        Assert.Equal("transcription_session.updated", RealtimeTestClient.Type(updated));
        Assert.Equal("gpt-4o-transcribe", updated["session"]!["input_audio_transcription"]!["model"]!.GetValue<string>());
        Assert.Null(updated["session"]!["turn_detection"]);
        var effective = JsonNode.Parse(_server.Sessions[0].SessionConfig)!["audio"]!["input"]!;
        Assert.Equal("gpt-4o-transcribe", effective["transcription"]!["model"]!.GetValue<string>());
        Assert.Null(effective["turn_detection"]);
    }

    [Fact(Timeout = 30000)]
    public async Task OfficialClient_StartTranscriptionSession_ReceivesSessionCreated()
    {
        var ct = TestContext.Current.CancellationToken;
        var client = new RealtimeClient(new ApiKeyCredential("test-key"), new RealtimeClientOptions { Endpoint = _server.Endpoint });
        using var session = await client.StartTranscriptionSessionAsync(cancellationToken: ct);

        string? firstType = null;
        await foreach (ClientResult result in session.ReceiveUpdatesAsync(new RequestOptions { CancellationToken = ct }))
        {
            firstType = JsonNode.Parse(result.GetRawResponse().Content.ToString())!["type"]!.GetValue<string>();
            break;
        }

        Assert.Equal("session.created", firstType);
        var recorded = Assert.Single(_server.Sessions);
        Assert.Equal("transcription", recorded.Intent);
        Assert.Equal(FakeSessionType.Transcription, recorded.SessionType);
    }

    private static JsonObject Update(string eventId, JsonObject session) =>
        new() { ["type"] = "session.update", ["event_id"] = eventId, ["session"] = session };

    private static JsonObject TranscriptionUpdate(JsonObject? turnDetection) => new()
    {
        ["type"] = "session.update",
        ["session"] = new JsonObject
        {
            ["type"] = "transcription",
            ["audio"] = new JsonObject
            {
                ["input"] = new JsonObject
                {
                    ["format"] = new JsonObject { ["type"] = "audio/pcm", ["rate"] = 24000 },
                    ["transcription"] = new JsonObject { ["model"] = "gpt-4o-transcribe", ["language"] = "en" },
                    ["turn_detection"] = turnDetection,
                },
            },
        },
    };

    private static void AssertError(JsonObject evt, string code, string? param, string? clientEventId)
    {
        Assert.Equal("error", RealtimeTestClient.Type(evt));
        var error = evt["error"]!;
        Assert.Equal(code, error["code"]!.GetValue<string>());
        Assert.Equal(param, error["param"]?.GetValue<string>());
        Assert.Equal(clientEventId, error["event_id"]?.GetValue<string>());
        Assert.False(string.IsNullOrWhiteSpace(error["message"]?.GetValue<string>()));
    }

    private static string TranscriptOf(List<JsonObject> events, string itemId)
    {
        var forItem = events.Where(e => e["item_id"]?.GetValue<string>() == itemId).ToList();
        var deltas = string.Concat(forItem
            .Where(e => RealtimeTestClient.Type(e) == "conversation.item.input_audio_transcription.delta")
            .Select(e => e["delta"]!.GetValue<string>()));
        var completed = Assert.Single(forItem, e => RealtimeTestClient.Type(e) == "conversation.item.input_audio_transcription.completed");
        Assert.Equal(0, completed["content_index"]!.GetValue<int>());
        Assert.Equal("tokens", completed["usage"]!["type"]!.GetValue<string>());
        Assert.Equal(completed["transcript"]!.GetValue<string>(), deltas);
        return deltas;
    }
}
