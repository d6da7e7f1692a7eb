using System.Text.Json;
using System.Threading.Channels;
using CaptionSidecar.Realtime;
using CaptionSidecar.Tests.Realtime;
using CaptionSidecar.Tracks;
using CaptionSidecar.Translation;
using Microsoft.Extensions.Logging.Abstractions;

namespace CaptionSidecar.Tests.Translation;

/// <summary>
/// The text translation track's protocol with a scripted server: refused and failed answers (which the fake server
/// does not produce), retried once alone and then skipped.
/// </summary>
public sealed class TextTranslationProtocolTests
{
    private readonly ScriptedRealtimeConnector _connector = new();
    private readonly Channel<SourceLine> _lines = Channel.CreateUnbounded<SourceLine>();
    private readonly RecordingCaptionInput _captions = new();

    private ScriptedRealtimeConnection Server => _connector.Connection;

    private Task Start(CancellationToken ct)
    {
        var options = new RealtimeOptions { ApiKey = "test-key", Endpoint = new Uri("http://127.0.0.1:1/v1") };
        var track = new RealtimeTextTranslationTrack(new CaptionLanguage("es", IsSource: false), options, _connector, NullLogger.Instance, TimeProvider.System);
        return track.RunAsync(_lines.Reader, _ => _captions, ct);
    }

    private async Task HandshakeAsync(CancellationToken ct)
    {
        Server.Push(new { type = "session.created", event_id = "e1", session = new { id = "sess_1", type = "realtime" } });
        var update = await Server.NextSentAsync("session.update", ct);
        var session = update.GetProperty("session");
        Assert.Equal("realtime", session.GetProperty("type").GetString());
        Assert.Equal(JsonValueKind.Null, session.GetProperty("audio").GetProperty("input").GetProperty("turn_detection").ValueKind);
        Server.Push(new { type = "session.updated", event_id = "e2", session = new { id = "sess_1", type = "realtime" } });
    }

    private async Task SayAsync(string itemId, string text, CancellationToken ct) =>
        await _lines.Writer.WriteAsync(new SourceLine("main", null, "en", itemId, text, TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeProvider.System.GetTimestamp()), ct);

    /// <summary>The next line's item create and response create: the item's id, its text, the response's event id and its context.</summary>
    private async Task<(string Item, string Text, string EventId, string[] Context)> NextAskAsync(CancellationToken ct)
    {
        var create = await Server.NextSentAsync("conversation.item.create", ct);
        var item = create.GetProperty("item");
        Assert.Equal("user", item.GetProperty("role").GetString());
        var part = Assert.Single(item.GetProperty("content").EnumerateArray().ToList());
        Assert.Equal("input_text", part.GetProperty("type").GetString());
        var response = await Server.NextSentAsync("response.create", ct);
        var context = response.GetProperty("response").GetProperty("input").EnumerateArray().Select(r => r.GetProperty("id").GetString()!).ToArray();
        return (item.GetProperty("id").GetString()!, part.GetProperty("text").GetString()!, response.GetProperty("event_id").GetString()!, context);
    }

    private void Answer(string responseId, string turn, string status, string? text, object? details = null)
    {
        Server.Push(new { type = "response.created", event_id = "c" + responseId, response = new { id = responseId, @object = "realtime.response", status = "in_progress", metadata = new { turn } } });
        if (text is not null)
        {
            Server.Push(new { type = "response.output_text.delta", event_id = "d" + responseId, response_id = responseId, item_id = "ans_" + responseId, output_index = 0, content_index = 0, delta = text });
        }

        Server.Push(new
        {
            type = "response.done",
            event_id = "f" + responseId,
            response = new
            {
                id = responseId,
                @object = "realtime.response",
                status,
                status_details = details,
                conversation_id = "conv_1",
                metadata = new { turn },
                output = text is null ? Array.Empty<object>() : [new { id = "ans_" + responseId, type = "message", role = "assistant", content = new[] { new { type = "output_text", text } } }],
                usage = new { total_tokens = 30, input_tokens = 20, output_tokens = 10, input_token_details = new { text_tokens = 20, audio_tokens = 0, cached_tokens = 0 }, output_token_details = new { text_tokens = 10, audio_tokens = 0 } },
            },
        });
    }

    [Fact(Timeout = 30000)]
    public async Task RefusedThenFailedAlone_LineFailsOnceAndTheNextLineIsTranslated()
    {
        var ct = TestContext.Current.CancellationToken;
        var run = Start(ct);
        await HandshakeAsync(ct);

        await SayAsync("src0", "Hello there.", ct);
        var first = await NextAskAsync(ct);
        Assert.Equal("Hello there.", first.Text);
        Server.Push(new { type = "error", event_id = "e3", error = new { type = "invalid_request_error", code = "invalid_value", message = "nope", event_id = first.EventId } });

        // Asked once more, alone, with a new item; it fails again: the line fails, once.
        var second = await NextAskAsync(ct);
        Assert.NotEqual(first.Item, second.Item);
        Assert.Equal([second.Item], second.Context);
        Answer("resp_2", second.Item, "failed", null, new { type = "failed", error = new { type = "server_error", message = "boom" } });
        await _captions.UntilAsync(() => _captions.Failed.Count == 1, "the line failed", ct);
        Assert.Equal("failed src0 failed: boom", Assert.Single(_captions.Failed));

        await SayAsync("src1", "Second.", ct);
        var third = await NextAskAsync(ct);
        Answer("resp_3", third.Item, "completed", "Segundo.");
        await _captions.WaitForCompletedAsync(1, ct);
        _lines.Writer.Complete();
        await run;

        Assert.Equal([("src1", "Segundo.")], _captions.Completed);
        Assert.Single(_captions.Failed);
        Assert.Equal(["committed src0", "failed src0 failed: boom", "committed src1", "completed src1"], _captions.Calls);
        Assert.True(Server.Closed);
        Assert.Equal(0, Server.AppendCount);
    }

    [Fact(Timeout = 30000)]
    public async Task FailedThenAnsweredAlone_LineCompletedWithContextOfEarlierLines()
    {
        var ct = TestContext.Current.CancellationToken;
        var run = Start(ct);
        await HandshakeAsync(ct);

        await SayAsync("src0", "One.", ct);
        var one = await NextAskAsync(ct);
        Answer("resp_1", one.Item, "completed", "Uno.");
        await SayAsync("src1", "Two.", ct);
        var two = await NextAskAsync(ct);
        Assert.Equal([one.Item, "ans_resp_1", two.Item], two.Context);
        Answer("resp_2", two.Item, "incomplete", null, new { type = "incomplete", reason = "content_filter" });

        var again = await NextAskAsync(ct);
        Assert.Equal([again.Item], again.Context);
        Answer("resp_3", again.Item, "completed", "Dos.");
        await _captions.WaitForCompletedAsync(2, ct);
        _lines.Writer.Complete();
        await run;

        Assert.Equal([("src0", "Uno."), ("src1", "Dos.")], _captions.Completed);
        Assert.Empty(_captions.Failed);
    }
}
