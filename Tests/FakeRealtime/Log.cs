using System.Net.WebSockets;

namespace CaptionSidecar.FakeRealtime;

/// <summary>Source-generated log messages of the fake server (audio appends are the hot path).</summary>
internal static partial class Log
{
    [LoggerMessage(LogLevel.Information, "FakeRealtime listening on {Endpoint}")]
    public static partial void Listening(ILogger logger, Uri endpoint);

    [LoggerMessage(LogLevel.Warning, "Rejected an upgrade: {Reason} (HTTP {Status})")]
    public static partial void Rejected(ILogger logger, string reason, int status);

    [LoggerMessage(LogLevel.Information, "Session {SessionId} opened ({SessionType}, intent={Intent}, model={Model})")]
    public static partial void SessionOpened(ILogger logger, string sessionId, FakeSessionType sessionType, string? intent, string? model);

    [LoggerMessage(LogLevel.Information, "Session {SessionId} ended ({Reason})")]
    public static partial void SessionEnded(ILogger logger, string sessionId, string reason);

    [LoggerMessage(LogLevel.Information, "Session {SessionId} client closed the WebSocket ({Status})")]
    public static partial void ClientClosed(ILogger logger, string sessionId, WebSocketCloseStatus? status);

    [LoggerMessage(LogLevel.Debug, "Session {SessionId} <- {EventType}")]
    public static partial void ClientEvent(ILogger logger, string sessionId, string eventType);

    [LoggerMessage(LogLevel.Information, "Session {SessionId} -> error {Code}: {Message}")]
    public static partial void ErrorSent(ILogger logger, string sessionId, string code, string message);

    [LoggerMessage(LogLevel.Information, "Session {SessionId} turn {ItemId} committed ({AudioMs} ms of audio)")]
    public static partial void TurnCommitted(ILogger logger, string sessionId, string itemId, long audioMs);

    [LoggerMessage(LogLevel.Information, "Session {SessionId} expires now")]
    public static partial void Expiring(ILogger logger, string sessionId);

    [LoggerMessage(LogLevel.Warning, "Session {SessionId} fault injected: {Fault}")]
    public static partial void Fault(ILogger logger, string sessionId, string fault);

    [LoggerMessage(LogLevel.Warning, "Session {SessionId} outbound queue full ({Capacity} events): dropping the slow client")]
    public static partial void OutboundFull(ILogger logger, string sessionId, int capacity);

    [LoggerMessage(LogLevel.Debug, "Session {SessionId} connection lost")]
    public static partial void ConnectionLost(ILogger logger, Exception exception, string sessionId);

    [LoggerMessage(LogLevel.Error, "Session {SessionId} transcription of {ItemId} failed unexpectedly")]
    public static partial void TranscriptionCrashed(ILogger logger, Exception exception, string sessionId, string itemId);

    [LoggerMessage(LogLevel.Information, "Session {SessionId} response {ResponseId} started (language {Language}, conversation {Conversation})")]
    public static partial void ResponseStarted(ILogger logger, string sessionId, string responseId, string language, string conversation);

    [LoggerMessage(LogLevel.Warning, "Session {SessionId}: {Problem} (OpenAI's published Realtime schemas)")]
    public static partial void SchemaViolation(ILogger logger, string sessionId, string problem);

    [LoggerMessage(LogLevel.Warning, "Session {SessionId}: the transcription prompt names speaker '{Speaker}', which has no speaker script; the turn takes the language's or the shared script")]
    public static partial void UnknownSpeaker(ILogger logger, string sessionId, string speaker);

    [LoggerMessage(LogLevel.Warning, "Session {SessionId}: no script row has the source text \"{SourceText}\" with a '{Language}' cell; answering with the fallback \"{Fallback}\"")]
    public static partial void UnscriptedSource(ILogger logger, string sessionId, string sourceText, string language, string fallback);

    [LoggerMessage(LogLevel.Information, "Session {SessionId} item {ItemId} created ({Role}, {Characters} characters of text)")]
    public static partial void ItemCreated(ILogger logger, string sessionId, string itemId, string role, int characters);
}
