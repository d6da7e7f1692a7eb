using System.Buffers;
using System.Globalization;
using System.Text.Json;
using CaptionSidecar.Glossaries;

namespace CaptionSidecar.Realtime;

/// <summary>
/// Writes the client events the sidecar sends, each with its own <c>event_id</c> (the server echoes it in an
/// <c>error</c>, and <see cref="SentEventLog"/> remembers what it was). GA event names and shapes.
/// </summary>
internal sealed class RealtimeClientEvents(string idPrefix)
{
    private long _next;

    /// <summary>
    /// The <c>session.update</c> of a transcription session (<c>session.type</c> is required in GA); its prompt is
    /// <c>--prompt</c> followed by the <paramref name="glossary"/>'s terms.
    /// </summary>
    public (BinaryData Message, string EventId) TranscriptionSessionUpdate(RealtimeOptions options, Glossary? glossary = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        return SessionUpdate("transcription", options, static _ => { }, (w, o) => WriteTranscription(w, o, glossary));
    }

    /// <summary>
    /// A mid-session <c>session.update</c> of a transcription session that changes only the transcription settings
    /// (a new glossary): only the fields present change, so the audio format and turn detection are left alone.
    /// </summary>
    public (BinaryData Message, string EventId) TranscriptionPromptUpdate(RealtimeOptions options, Glossary glossary)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Write("session.update", w =>
        {
            w.WriteStartObject("session");
            w.WriteString("type", "transcription");
            w.WriteStartObject("audio");
            w.WriteStartObject("input");
            WriteTranscription(w, options, glossary);
            w.WriteEndObject(); // input
            w.WriteEndObject(); // audio
            w.WriteEndObject(); // session
        });
    }

    /// <summary>A mid-session <c>session.update</c> of a translation session that changes only its instructions (a new glossary).</summary>
    public (BinaryData Message, string EventId) InstructionsUpdate(string instructions) => Write("session.update", w =>
    {
        w.WriteStartObject("session");
        w.WriteString("type", "realtime");
        w.WriteString("instructions", instructions);
        w.WriteEndObject();
    });

    private static void WriteTranscription(Utf8JsonWriter w, RealtimeOptions o, Glossary? glossary)
    {
        w.WriteStartObject("transcription");
        w.WriteString("model", o.TranscribeModel);
        w.WriteString("language", o.Language.Split('-')[0]);
        var prompt = (glossary ?? Glossary.Empty).TranscriptionPrompt(o.Prompt);
        if (o.SpeakerName is { } speaker)
        {
            // Who speaks, last: the model then spells the name right when it is said.
            prompt = string.IsNullOrWhiteSpace(prompt) ? $"Speaker: {speaker}." : $"{prompt}\nSpeaker: {speaker}.";
        }

        if (!string.IsNullOrWhiteSpace(prompt))
        {
            w.WriteString("prompt", prompt);
        }

        w.WriteEndObject();
    }

    /// <summary>
    /// The <c>session.update</c> of a translation (conversation) session: text output only, bounded answers, no input
    /// transcription (the source track does that), and turn detection that neither creates responses (the session
    /// asks for one per turn, one at a time) nor interrupts a translation still streaming.
    /// </summary>
    public (BinaryData Message, string EventId) TranslationSessionUpdate(RealtimeOptions options, string instructions)
    {
        ArgumentNullException.ThrowIfNull(options);
        return SessionUpdate("realtime", options, w =>
        {
            w.WriteStartArray("output_modalities");
            w.WriteStringValue("text");
            w.WriteEndArray();
            w.WriteString("instructions", instructions);
            w.WriteNumber("max_output_tokens", options.MaxOutputTokens);
        }, static (_, _) => { });
    }

    /// <summary>
    /// A GA <c>session.update</c>: the session's <paramref name="type"/>, its own top-level fields, then the input audio
    /// (format, noise reduction, the kind's own input settings, turn detection).
    /// </summary>
    private (BinaryData Message, string EventId) SessionUpdate(
        string type, RealtimeOptions options, Action<Utf8JsonWriter> session, Action<Utf8JsonWriter, RealtimeOptions> input) => Write("session.update", w =>
    {
        w.WriteStartObject("session");
        w.WriteString("type", type);
        session(w);
        w.WriteStartObject("audio");
        w.WriteStartObject("input");
        WriteInputAudio(w, options);
        input(w, options);
        WriteTurnDetection(w, options, conversation: type == "realtime");
        w.WriteEndObject(); // input
        w.WriteEndObject(); // audio
        w.WriteEndObject(); // session
    });

    /// <summary>
    /// <c>response.create</c> in the default conversation for the turn <paramref name="turnItemId"/>, seeing only
    /// <paramref name="context"/> (item references, oldest first, ending with the turn) instead of the whole
    /// conversation; the turn's id travels in <c>metadata</c> (echoed on <c>response.created</c>/<c>response.done</c>)
    /// so the answer maps back to it.
    /// </summary>
    public (BinaryData Message, string EventId) ResponseCreate(string turnItemId, IReadOnlyList<string> context) => Write("response.create", w =>
    {
        w.WriteStartObject("response");
        w.WriteStartArray("input");
        foreach (var item in context)
        {
            w.WriteStartObject();
            w.WriteString("type", "item_reference");
            w.WriteString("id", item);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartObject("metadata");
        w.WriteString("turn", turnItemId);
        w.WriteEndObject();
        w.WriteEndObject();
    });

    /// <summary>
    /// The <c>session.update</c> of a text translation session: text output only, bounded answers, and no audio input
    /// at all (turn detection off, no input transcription), so the session only answers the responses asked for.
    /// </summary>
    public (BinaryData Message, string EventId) TextTranslationSessionUpdate(RealtimeOptions options, string instructions)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Write("session.update", w =>
        {
            w.WriteStartObject("session");
            w.WriteString("type", "realtime");
            w.WriteStartArray("output_modalities");
            w.WriteStringValue("text");
            w.WriteEndArray();
            w.WriteString("instructions", instructions);
            w.WriteNumber("max_output_tokens", options.MaxOutputTokens);
            w.WriteStartObject("audio");
            w.WriteStartObject("input");
            w.WriteNull("turn_detection");
            w.WriteEndObject(); // input
            w.WriteEndObject(); // audio
            w.WriteEndObject(); // session
        });
    }

    /// <summary>
    /// <c>conversation.item.create</c> of a user message with one <c>input_text</c> part, with the client's own item id
    /// (so a response can reference it at once), appended to the default conversation.
    /// </summary>
    public (BinaryData Message, string EventId) UserText(string itemId, string text) => Write("conversation.item.create", w =>
    {
        w.WriteStartObject("item");
        w.WriteString("id", itemId);
        w.WriteString("type", "message");
        w.WriteString("role", "user");
        w.WriteStartArray("content");
        w.WriteStartObject();
        w.WriteString("type", "input_text");
        w.WriteString("text", text);
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteEndObject();
    });

    /// <summary>
    /// <c>conversation.item.create</c> of an assistant message with one <c>output_text</c> part (an earlier answer given
    /// to a new session as context), with the client's own item id, appended to the default conversation.
    /// </summary>
    public (BinaryData Message, string EventId) AssistantText(string itemId, string text) => Write("conversation.item.create", w =>
    {
        w.WriteStartObject("item");
        w.WriteString("id", itemId);
        w.WriteString("type", "message");
        w.WriteString("role", "assistant");
        w.WriteStartArray("content");
        w.WriteStartObject();
        w.WriteString("type", "output_text");
        w.WriteString("text", text);
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteEndObject();
    });

    /// <summary><c>response.cancel</c> of <paramref name="responseId"/> (null: the default conversation's active response).</summary>
    public (BinaryData Message, string EventId) ResponseCancel(string? responseId) => Write("response.cancel", w =>
    {
        if (responseId is not null)
        {
            w.WriteString("response_id", responseId);
        }
    });

    /// <summary><c>conversation.item.delete</c>: removes an item from the conversation the model sees.</summary>
    public (BinaryData Message, string EventId) DeleteItem(string itemId) => Write("conversation.item.delete", w => w.WriteString("item_id", itemId));

    /// <summary><c>input_audio_buffer.append</c> with the PCM16 bytes as base64.</summary>
    public (BinaryData Message, string EventId) Append(ReadOnlySpan<byte> pcm16)
    {
        // The span cannot enter the lambda: write directly.
        var id = NextId();
        var buffer = new ArrayBufferWriter<byte>(pcm16.Length * 4 / 3 + 96);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("type", "input_audio_buffer.append");
            w.WriteString("event_id", id);
            w.WriteBase64String("audio", pcm16);
            w.WriteEndObject();
        }

        return (new BinaryData(buffer.WrittenMemory), id);
    }

    /// <summary><c>input_audio_buffer.commit</c>: ends the current turn (manual mode, or the end of input).</summary>
    public (BinaryData Message, string EventId) Commit() => Write("input_audio_buffer.commit", static _ => { });

    /// <summary><c>input_audio_buffer.clear</c>: drops uncommitted audio; the server answers <c>input_audio_buffer.cleared</c>.</summary>
    public (BinaryData Message, string EventId) Clear() => Write("input_audio_buffer.clear", static _ => { });

    private static void WriteInputAudio(Utf8JsonWriter w, RealtimeOptions options)
    {
        w.WriteStartObject("format");
        w.WriteString("type", "audio/pcm");
        w.WriteNumber("rate", Audio.AudioChunk.SampleRate);
        w.WriteEndObject();
        // Off is the field left out: the published schema types noise_reduction as an object whose default is null
        // (off), and a session is configured once, so nothing earlier needs turning off.
        if (options.NoiseReduction != "none")
        {
            w.WriteStartObject("noise_reduction");
            w.WriteString("type", options.NoiseReduction);
            w.WriteEndObject();
        }
    }

    /// <summary>Turn detection; a conversation session also gets <c>create_response</c> and <c>interrupt_response</c> off.</summary>
    private static void WriteTurnDetection(Utf8JsonWriter w, RealtimeOptions options, bool conversation)
    {
        switch (options.TurnDetection)
        {
            case TurnDetectionMode.Manual:
                w.WriteNull("turn_detection");
                break;
            case TurnDetectionMode.ServerVad:
                w.WriteStartObject("turn_detection");
                w.WriteString("type", "server_vad");
                w.WriteNumber("threshold", options.VadThreshold);
                w.WriteNumber("prefix_padding_ms", 300);
                w.WriteNumber("silence_duration_ms", options.SilenceDurationMs);
                WriteResponseSettings(w, conversation);
                w.WriteEndObject();
                break;
            default:
                w.WriteStartObject("turn_detection");
                w.WriteString("type", "semantic_vad");
                w.WriteString("eagerness", options.Eagerness);
                WriteResponseSettings(w, conversation);
                w.WriteEndObject();
                break;
        }
    }

    private static void WriteResponseSettings(Utf8JsonWriter w, bool conversation)
    {
        if (conversation)
        {
            w.WriteBoolean("create_response", false);
            w.WriteBoolean("interrupt_response", false);
        }
    }

    private string NextId() => string.Create(CultureInfo.InvariantCulture, $"{idPrefix}_{Interlocked.Increment(ref _next)}");

    private (BinaryData, string) Write(string type, Action<Utf8JsonWriter> body)
    {
        var id = NextId();
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("type", type);
            w.WriteString("event_id", id);
            body(w);
            w.WriteEndObject();
        }

        return (new BinaryData(buffer.WrittenMemory), id);
    }
}

/// <summary>
/// What the sidecar sent recently, by <c>event_id</c>, so an <c>error</c> can be logged with the event it refers to.
/// Bounded: the oldest entries are forgotten (appends go out 50 times a second). Owned by the session's loop, which
/// both sends and reads errors (not thread-safe).
/// </summary>
internal sealed class SentEventLog(int capacity = 512)
{
    private readonly Dictionary<string, string> _types = new(StringComparer.Ordinal);
    private readonly Queue<string> _order = new();

    public void Add(string eventId, string type)
    {
        if (_types.TryAdd(eventId, type))
        {
            _order.Enqueue(eventId);
            if (_order.Count > capacity)
            {
                _types.Remove(_order.Dequeue());
            }
        }
    }

    /// <summary>The type of the event sent with <paramref name="eventId"/>, or null when unknown or forgotten.</summary>
    public string? TypeOf(string? eventId)
    {
        if (eventId is null)
        {
            return null;
        }

        return _types.GetValueOrDefault(eventId);
    }
}
