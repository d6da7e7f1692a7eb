using System.Net.WebSockets;
using System.Text.Unicode;

namespace CaptionSidecar.Overlay.WebSockets;

/// <summary>What <see cref="ClientFrameParser"/> found; <see cref="None"/> when it needs more bytes.</summary>
internal enum ClientFrameEventKind
{
    /// <summary>Every byte given was consumed without completing anything that needs an answer.</summary>
    None,

    /// <summary>A ping: answer with a pong carrying <see cref="ClientFrameEvent.Payload"/>.</summary>
    Ping,

    /// <summary>The client's close frame: answer with a close frame, then end. Nothing after it is read.</summary>
    Close,

    /// <summary>The client broke the protocol or a limit: close with <see cref="ClientFrameEvent.Status"/>. Nothing after it is read.</summary>
    Fail,
}

/// <summary>One event out of <see cref="ClientFrameParser"/>.</summary>
/// <param name="Kind">What happened.</param>
/// <param name="Status">Close: the client's status (<see cref="WebSocketCloseStatus.Empty"/> when it gave none). Fail: the status to close with.</param>
/// <param name="Payload">Ping: its payload (to echo in the pong).</param>
/// <param name="Reason">Fail: why, for the close frame and the log.</param>
internal readonly record struct ClientFrameEvent(ClientFrameEventKind Kind, WebSocketCloseStatus Status = default, byte[]? Payload = null, string? Reason = null)
{
    public static ClientFrameEvent None => default;
}

/// <summary>
/// Reads the frames a client sends (RFC 6455 section 5) byte by byte, as a state machine that keeps no buffer: a
/// frame may arrive split across any number of reads. Data (text, binary, continuation) and pongs are read and
/// dropped; a ping's payload (at most 125 bytes) is kept for its pong; the first close frame or violation ends it.
/// Violations: an unmasked frame, reserved bits (no extension is ever agreed), an unknown opcode, a fragmented or
/// over-long control frame, a continuation without a message or a new message inside one, a 64-bit length with its
/// top bit set, a close frame with a 1-byte payload, a status that may not be sent, or a reason that is not UTF-8.
/// A data frame that would take its message over the limit fails with 1009 as soon as its length is known. Text
/// messages are dropped unread, so their UTF-8 is not checked (RFC 6455 8.1 would fail an invalid one with 1007).
/// </summary>
internal sealed class ClientFrameParser(int maxMessageBytes)
{
    private enum State : byte
    {
        Start,
        Length,
        ExtendedLength,
        Mask,
        Payload,
        Ended,
    }

    private State _state;
    private byte _opcode;
    private bool _fin;
    private bool _inMessage;
    private byte _lengthBytesLeft;
    private byte _maskBytesRead;
    private uint _mask;
    private ulong _length;
    private ulong _payloadRead;
    private long _messageBytes;
    private byte[]? _control;

    /// <summary>True once a close frame or a violation was found: nothing more is parsed.</summary>
    public bool Ended => _state == State.Ended;

    /// <summary>
    /// Parses <paramref name="input"/> up to the first event that needs an answer (or all of it);
    /// <paramref name="consumed"/> says how far it got. Call again with the rest.
    /// </summary>
    public ClientFrameEvent Parse(ReadOnlySpan<byte> input, out int consumed)
    {
        var i = 0;
        while (i < input.Length && _state != State.Ended)
        {
            switch (_state)
            {
                case State.Start:
                {
                    var b = input[i++];
                    if (Start(b) is { } failed)
                    {
                        consumed = i;
                        return failed;
                    }

                    break;
                }

                case State.Length:
                {
                    var b = input[i++];
                    if ((b & 0x80) == 0)
                    {
                        consumed = i;
                        return Fail(WebSocketCloseStatus.ProtocolError, "client frames must be masked");
                    }

                    var length = b & 0x7F;
                    if (IsControl && length > WebSocketFrames.MaxControlPayload)
                    {
                        consumed = i;
                        return Fail(WebSocketCloseStatus.ProtocolError, "control frame over 125 bytes");
                    }

                    _length = 0;
                    if (length >= 126)
                    {
                        _lengthBytesLeft = (byte)(length == 126 ? 2 : 8);
                        _state = State.ExtendedLength;
                        break;
                    }

                    _length = (ulong)length;
                    if (LengthKnown() is { } tooBig)
                    {
                        consumed = i;
                        return tooBig;
                    }

                    break;
                }

                case State.ExtendedLength:
                {
                    _length = (_length << 8) | input[i++];
                    if (--_lengthBytesLeft > 0)
                    {
                        break;
                    }

                    if ((_length & (1UL << 63)) != 0)
                    {
                        consumed = i;
                        return Fail(WebSocketCloseStatus.ProtocolError, "frame length with its top bit set");
                    }

                    if (LengthKnown() is { } tooBig)
                    {
                        consumed = i;
                        return tooBig;
                    }

                    break;
                }

                case State.Mask:
                {
                    _mask = (_mask << 8) | input[i++];
                    if (++_maskBytesRead < 4)
                    {
                        break;
                    }

                    _payloadRead = 0;
                    _control = _opcode is WebSocketFrames.Ping or WebSocketFrames.Close ? new byte[_length] : null;
                    _state = State.Payload;
                    if (_length == 0)
                    {
                        var ended = EndFrame();
                        if (ended.Kind != ClientFrameEventKind.None)
                        {
                            consumed = i;
                            return ended;
                        }
                    }

                    break;
                }

                case State.Payload:
                {
                    var take = (int)Math.Min((ulong)(input.Length - i), _length - _payloadRead);
                    if (_control is { } control)
                    {
                        for (var k = 0; k < take; k++)
                        {
                            var at = _payloadRead + (ulong)k;
                            control[at] = (byte)(input[i + k] ^ (byte)(_mask >> (8 * (3 - (int)(at & 3)))));
                        }
                    }

                    i += take;
                    _payloadRead += (ulong)take;
                    if (_payloadRead == _length)
                    {
                        var ended = EndFrame();
                        if (ended.Kind != ClientFrameEventKind.None)
                        {
                            consumed = i;
                            return ended;
                        }
                    }

                    break;
                }
            }
        }

        // Once ended, the rest is not the protocol's any more: take it all so the caller stops feeding it.
        consumed = _state == State.Ended ? input.Length : i;
        return ClientFrameEvent.None;
    }

    private bool IsControl => _opcode >= WebSocketFrames.Close;

    private ClientFrameEvent? Start(byte b)
    {
        _fin = (b & 0x80) != 0;
        _opcode = (byte)(b & 0x0F);
        if ((b & 0x70) != 0)
        {
            return Fail(WebSocketCloseStatus.ProtocolError, "reserved bits set (no extension was agreed)");
        }

        switch (_opcode)
        {
            case WebSocketFrames.Continuation when !_inMessage:
                return Fail(WebSocketCloseStatus.ProtocolError, "continuation frame without a message");
            case WebSocketFrames.Text or WebSocketFrames.Binary when _inMessage:
                return Fail(WebSocketCloseStatus.ProtocolError, "new message before the last one ended");
            case WebSocketFrames.Continuation or WebSocketFrames.Text or WebSocketFrames.Binary:
                break;
            case WebSocketFrames.Close or WebSocketFrames.Ping or WebSocketFrames.Pong:
                if (!_fin)
                {
                    return Fail(WebSocketCloseStatus.ProtocolError, "fragmented control frame");
                }

                break;
            default:
                return Fail(WebSocketCloseStatus.ProtocolError, $"unknown opcode {_opcode}");
        }

        _state = State.Length;
        return null;
    }

    /// <summary>The frame's length is known: refuse a data frame that takes its message over the limit before reading it.</summary>
    private ClientFrameEvent? LengthKnown()
    {
        if (!IsControl && (ulong)_messageBytes + _length > (ulong)maxMessageBytes)
        {
            return Fail(WebSocketCloseStatus.MessageTooBig, $"message over {maxMessageBytes} bytes");
        }

        _mask = 0;
        _maskBytesRead = 0;
        _state = State.Mask;
        return null;
    }

    private ClientFrameEvent EndFrame()
    {
        _state = State.Start;
        var payload = _control;
        _control = null;
        switch (_opcode)
        {
            case WebSocketFrames.Ping:
                return new ClientFrameEvent(ClientFrameEventKind.Ping, Payload: payload);
            case WebSocketFrames.Close:
                return CloseReceived(payload!);
            case WebSocketFrames.Pong:
                return ClientFrameEvent.None;
            default:
                _messageBytes = _fin ? 0 : _messageBytes + (long)_length;
                _inMessage = !_fin;
                return ClientFrameEvent.None;
        }
    }

    private ClientFrameEvent CloseReceived(byte[] payload)
    {
        if (payload.Length == 0)
        {
            _state = State.Ended;
            return new ClientFrameEvent(ClientFrameEventKind.Close, WebSocketCloseStatus.Empty);
        }

        if (payload.Length == 1)
        {
            return Fail(WebSocketCloseStatus.ProtocolError, "close frame with a 1-byte payload");
        }

        var code = (payload[0] << 8) | payload[1];
        // RFC 6455 7.4: 1000-1003 and 1007-1011 are defined to be sent (1012-1014 by IANA's registry since), 3000-4999
        // are for libraries and applications; 1004-1006 and 1015 never appear on the wire.
        if (code is not ((>= 1000 and <= 1003) or (>= 1007 and <= 1014) or (>= 3000 and <= 4999)))
        {
            return Fail(WebSocketCloseStatus.ProtocolError, $"close status {code} may not be sent");
        }

        if (!Utf8.IsValid(payload.AsSpan(2)))
        {
            return Fail(WebSocketCloseStatus.InvalidPayloadData, "close reason is not UTF-8");
        }

        _state = State.Ended;
        return new ClientFrameEvent(ClientFrameEventKind.Close, (WebSocketCloseStatus)code);
    }

    private ClientFrameEvent Fail(WebSocketCloseStatus status, string reason)
    {
        _state = State.Ended;
        _control = null;
        return new ClientFrameEvent(ClientFrameEventKind.Fail, status, Reason: reason);
    }
}
