using System.Text.Json;
using System.Threading.Channels;
using CaptionSidecar.Audio;
using CaptionSidecar.Realtime;
using CaptionSidecar.Tracks;
using Microsoft.Extensions.Logging.Abstractions;

namespace CaptionSidecar.Tests.Realtime;

/// <summary>
/// The translation session against a scripted connection: beta event names, reordered events, failed and cancelled
/// responses, refused requests. The test plays the server.
/// </summary>
public sealed class RealtimeTranslationSessionTests
{
    private readonly ScriptedRealtimeConnector _connector = new();
    private readonly Channel<AudioChunk> _audio = Channel.CreateUnbounded<AudioChunk>();
    private readonly RecordingCaptionInput _captions = new();
    private RealtimeTranslationTrack _track = null!;
    private Task _run = Task.CompletedTask;

    private ScriptedRealtimeConnection Server => _connector.Connection;

    private CancellationToken Ct { get; set; }

    private async Task StartAsync(CancellationToken cancellationToken, int maxConversationItems = 6)
    {
        Ct = cancellationToken;
        var options = new RealtimeOptions
        {
            ApiKey = "test-key",
            TurnDetection = TurnDetectionMode.ServerVad,
            MaxConversationItems = maxConversationItems,
            DrainTimeoutSeconds = 10,
        };
        _track = new RealtimeTranslationTrack(new CaptionLanguage("de", IsSource: false), options, _connector, NullLogger.Instance, TimeProvider.System);
        _run = _track.RunAsync(_audio.Reader, _captions, Ct);
        Server.Push(new { type = "session.created", session = new { id = "sess_1", type = "realtime", expires_at = 2_000_000_000 } });
        await Server.NextSentAsync("session.update", Ct);
        Server.Push(new { type = "session.updated", session = new { id = "sess_1", type = "realtime" } });
    }

    /// <summary>Plays a VAD turn; returns the <c>response.create</c> the session sends for it.</summary>
    private async Task<JsonElement> TurnAsync(string item, string? previous)
    {
        Server.Push(new { type = "input_audio_buffer.speech_started", audio_start_ms = 100, item_id = item });
        Server.Push(new { type = "input_audio_buffer.speech_stopped", audio_end_ms = 900, item_id = item });
        Server.Push(new { type = "input_audio_buffer.committed", item_id = item, previous_item_id = previous });
        Server.Push(new { type = "conversation.item.created", previous_item_id = previous, item = new { id = item, type = "message", role = "user" } });
        var create = await Server.NextSentAsync("response.create", Ct);
        Assert.Equal(item, create.GetProperty("response").GetProperty("metadata").GetProperty("turn").GetString());
        return create;
    }

    private static object ResponseDone(string id, string status, object? details = null, string text = "", object? usage = null) => new
    {
        type = "response.done",
        response = new
        {
            id,
            status,
            status_details = details,
            conversation_id = "conv_1",
            output = new[] { new { id = "out_" + id, type = "message", role = "assistant", content = new[] { new { type = "output_text", text } } } },
            usage,
        },
    };

    private async Task FinishAsync()
    {
        _audio.Writer.Complete();
        await Server.NextSentAsync("input_audio_buffer.clear", Ct);
        Server.Push(new { type = "input_audio_buffer.cleared" });
        await _run;
    }

    [Fact(Timeout = 30000)]
    public async Task RunAsync_BetaTextAndAudioTranscriptEvents_CaptionTheirTurns()
    {
        await StartAsync(TestContext.Current.CancellationToken);

        await TurnAsync("item_1", null);
        Server.Push(new { type = "response.created", response = new { id = "resp_1", status = "in_progress", metadata = new { turn = "item_1" } } });
        Server.Push(new { type = "response.text.delta", response_id = "resp_1", item_id = "out_resp_1", delta = "Hallo" });
        Server.Push(new { type = "response.text.delta", response_id = "resp_1", item_id = "out_resp_1", delta = " zusammen" });
        Server.Push(new { type = "response.text.done", response_id = "resp_1", item_id = "out_resp_1", text = "Hallo zusammen" });
        Server.Push(ResponseDone("resp_1", "completed", text: "Hallo zusammen"));

        await TurnAsync("item_2", "out_resp_1");
        Server.Push(new { type = "response.created", response = new { id = "resp_2", status = "in_progress", metadata = new { turn = "item_2" } } });
        Server.Push(new { type = "response.audio_transcript.delta", response_id = "resp_2", item_id = "out_resp_2", delta = "Willkommen" });
        Server.Push(new { type = "response.audio_transcript.done", response_id = "resp_2", item_id = "out_resp_2", transcript = "Willkommen" });
        Server.Push(ResponseDone("resp_2", "completed", text: "Willkommen"));
        await FinishAsync();

        Assert.Equal(["Hallo zusammen", "Willkommen"], _captions.CompletedInTurnOrder());
        Assert.Equal("Hallo zusammen", _captions.DeltasOf("item_1"));
        Assert.Equal("Willkommen", _captions.DeltasOf("item_2"));
        // The caption track orders input turns: the second turn follows the first, not the first's answer.
        Assert.Equal("item_1", _captions.Commits[1].Previous);
    }

    [Fact(Timeout = 30000)]
    public async Task RunAsync_TextBeforeResponseCreated_BelongsToTheTurnAskedFor()
    {
        await StartAsync(TestContext.Current.CancellationToken);

        await TurnAsync("item_1", null);
        Server.Push(new { type = "response.output_item.added", response_id = "resp_1", item = new { id = "out_1", type = "message", role = "assistant" } });
        Server.Push(new { type = "response.output_text.delta", response_id = "resp_1", item_id = "out_1", delta = "Guten " });
        Server.Push(new { type = "response.created", response = new { id = "resp_1", status = "in_progress" } });
        Server.Push(new { type = "response.output_audio_transcript.delta", response_id = "resp_1", item_id = "out_1", delta = "Abend" });
        Server.Push(ResponseDone("resp_1", "completed", text: "Guten Abend"));
        await FinishAsync();

        // No done event for the text: the deltas are the translation.
        Assert.Equal(["Guten Abend"], _captions.CompletedInTurnOrder());
        Assert.Equal("Guten Abend", _captions.DeltasOf("item_1"));
    }

    [Fact(Timeout = 30000)]
    public async Task RunAsync_ResponsesEndingWithoutText_FailTheirTurnsWithTheReason_PartialTextIsKept()
    {
        await StartAsync(TestContext.Current.CancellationToken);

        await TurnAsync("item_1", null);
        Server.Push(ResponseDone("resp_1", "cancelled", new { type = "cancelled", reason = "turn_detected" }));
        await TurnAsync("item_2", null);
        Server.Push(ResponseDone("resp_2", "failed", new { type = "failed", error = new { type = "server_error", code = "internal", message = "The model crashed." } }));
        await TurnAsync("item_3", null);
        Server.Push(new { type = "response.output_text.delta", response_id = "resp_3", item_id = "out_resp_3", delta = "Nur ein" });
        Server.Push(ResponseDone("resp_3", "incomplete", new { type = "incomplete", reason = "max_output_tokens" }));
        await FinishAsync();

        Assert.Equal(["failed item_1 cancelled: turn_detected", "failed item_2 failed: The model crashed."], _captions.Failed);
        Assert.Equal(["Nur ein"], _captions.CompletedInTurnOrder());
        Assert.Equal(1, _track.Status.TurnsCompleted);
    }

    [Fact(Timeout = 30000)]
    public async Task RunAsync_ConversationAlreadyHasActiveResponse_AsksAgainForTheSameTurnWhenItIsDone()
    {
        await StartAsync(TestContext.Current.CancellationToken);

        var create = await TurnAsync("item_1", null);
        Server.Push(new
        {
            type = "error",
            error = new { type = "invalid_request_error", code = "conversation_already_has_active_response", message = "Conversation already has an active response.", event_id = create.GetProperty("event_id").GetString() },
        });
        Server.Push(new { type = "response.created", response = new { id = "resp_other", status = "in_progress" } });
        Server.Push(ResponseDone("resp_other", "completed", text: "not ours"));
        var again = await Server.NextSentAsync("response.create", Ct);
        Server.Push(new { type = "response.created", response = new { id = "resp_1", status = "in_progress", metadata = new { turn = "item_1" } } });
        Server.Push(ResponseDone("resp_1", "completed", text: "Hallo"));
        await FinishAsync();

        Assert.Equal("item_1", again.GetProperty("response").GetProperty("metadata").GetProperty("turn").GetString());
        Assert.Equal(["Hallo"], _captions.CompletedInTurnOrder());
        Assert.Empty(_captions.Failed);
    }

    [Fact(Timeout = 30000)]
    public async Task RunAsync_ConversationOverItsBound_DeletesTheOldestItems_ARefusedDeleteIsSkipped()
    {
        await StartAsync(TestContext.Current.CancellationToken, maxConversationItems: 2);

        await TurnAsync("item_1", null);
        Server.Push(ResponseDone("resp_1", "completed", text: "Eins"));
        await TurnAsync("item_2", "out_resp_1");
        Server.Push(ResponseDone("resp_2", "completed", text: "Zwei"));

        // Four items, two kept: the first turn and its answer go, oldest first.
        var first = await Server.NextSentAsync("conversation.item.delete", Ct);
        var second = await Server.NextSentAsync("conversation.item.delete", Ct);
        Assert.Equal("item_1", first.GetProperty("item_id").GetString());
        Assert.Equal("out_resp_1", second.GetProperty("item_id").GetString());
        Server.Push(new { type = "conversation.item.deleted", item_id = "item_1" });
        Server.Push(new
        {
            type = "error",
            error = new { type = "invalid_request_error", code = "invalid_value", message = "no such item", param = "item_id", event_id = second.GetProperty("event_id").GetString() },
        });
        await FinishAsync();

        Assert.Equal(["Eins", "Zwei"], _captions.CompletedInTurnOrder());
        Assert.Equal(TrackSessionState.Stopped, _track.Status.State);
    }

    private void Commit(string item)
    {
        Server.Push(new { type = "input_audio_buffer.committed", item_id = item });
        Server.Push(new { type = "conversation.item.added", item = new { id = item, type = "message", role = "user" } });
    }

    private static string[] ContextOf(JsonElement create) =>
        [.. create.GetProperty("response").GetProperty("input").EnumerateArray().Select(r =>
        {
            Assert.Equal("item_reference", r.GetProperty("type").GetString());
            return r.GetProperty("id").GetString()!;
        })];

    [Fact(Timeout = 30000)]
    public async Task RunAsync_TurnsCommittedWhileTranslating_EachResponseSeesEarlierPairsAndItsOwnTurnOnly()
    {
        await StartAsync(TestContext.Current.CancellationToken, maxConversationItems: 4);

        Commit("item_1");
        var first = await Server.NextSentAsync("response.create", Ct);
        Commit("item_2"); // the speaker goes on while item_1 is translated
        Commit("item_3");
        Server.Push(new { type = "response.output_item.added", response_id = "resp_1", item = new { id = "out_resp_1", type = "message", role = "assistant" } });
        Server.Push(ResponseDone("resp_1", "completed", text: "Eins"));
        var second = await Server.NextSentAsync("response.create", Ct);
        Server.Push(ResponseDone("resp_2", "completed", text: "Zwei"));
        var third = await Server.NextSentAsync("response.create", Ct);
        Server.Push(ResponseDone("resp_3", "completed", text: "Drei"));
        await FinishAsync();

        Assert.Equal(["item_1"], ContextOf(first));
        Assert.Equal(["item_1", "out_resp_1", "item_2"], ContextOf(second));
        // Within four items only the newest pair fits before the turn.
        Assert.Equal(["item_2", "out_resp_2", "item_3"], ContextOf(third));
        Assert.Equal(["Eins", "Zwei", "Drei"], _captions.CompletedInTurnOrder());
    }

    [Fact(Timeout = 30000)]
    public async Task RunAsync_ResponseRefused_AsksOnceMoreWithTheTurnAlone_ThenTheTurnFails()
    {
        await StartAsync(TestContext.Current.CancellationToken);
        object Refusal(JsonElement create) => new
        {
            type = "error",
            error = new { type = "invalid_request_error", code = "invalid_value", message = "no such item", param = "response.input[0].id", event_id = create.GetProperty("event_id").GetString() },
        };

        await TurnAsync("item_1", null);
        Server.Push(ResponseDone("resp_1", "completed", text: "Eins"));
        var withContext = await TurnAsync("item_2", "out_resp_1");
        Server.Push(Refusal(withContext));
        var alone = await Server.NextSentAsync("response.create", Ct);
        Server.Push(ResponseDone("resp_2", "completed", text: "Zwei"));
        var third = await TurnAsync("item_3", "out_resp_2");
        Server.Push(Refusal(third));
        Server.Push(Refusal(await Server.NextSentAsync("response.create", Ct)));
        await FinishAsync();

        Assert.Equal(["item_1", "out_resp_1", "item_2"], ContextOf(withContext));
        Assert.Equal(["item_2"], ContextOf(alone));
        Assert.Equal(["Eins", "Zwei"], _captions.CompletedInTurnOrder());
        Assert.Equal(["failed item_3 invalid_value: no such item"], _captions.Failed);
    }

    [Fact(Timeout = 30000)]
    public async Task RunAsync_ResponseUsage_AddsUpInTheStatus()
    {
        await StartAsync(TestContext.Current.CancellationToken);
        var usage = new
        {
            input_tokens = 132,
            output_tokens = 21,
            input_token_details = new { text_tokens = 119, audio_tokens = 13, cached_tokens = 64, cached_tokens_details = new { text_tokens = 60, audio_tokens = 4 } },
            output_token_details = new { text_tokens = 21, audio_tokens = 0 },
        };

        await TurnAsync("item_1", null);
        Server.Push(ResponseDone("resp_1", "completed", text: "Eins", usage: usage));
        await TurnAsync("item_2", null);
        Server.Push(ResponseDone("resp_2", "completed", text: "Zwei", usage: usage));
        await FinishAsync();

        Assert.Equal(new TokenUsage { AudioInputTokens = 18, CachedAudioInputTokens = 8, TextInputTokens = 118, CachedTextInputTokens = 120, TextOutputTokens = 42 }, _track.Status.Usage);
    }
}
