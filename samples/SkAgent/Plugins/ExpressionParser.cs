using System.Globalization;

namespace SkAgent.Plugins;

/// <summary>A recursive-descent parser for + - * / and parentheses over decimal numbers.</summary>
internal sealed class ExpressionParser(string text)
{
    private int _position;

    public double Parse()
    {
        double value = ParseSum();
        SkipSpaces();
        return _position == text.Length
            ? value
            : throw new FormatException($"Unexpected '{text[_position]}' at position {_position} in '{text}'.");
    }

    private double ParseSum()
    {
        double value = ParseProduct();
        while (TryTake('+', '-', out char op))
        {
            double right = ParseProduct();
            value = op == '+' ? value + right : value - right;
        }

        return value;
    }

    private double ParseProduct()
    {
        double value = ParseFactor();
        while (TryTake('*', '/', out char op))
        {
            double right = ParseFactor();
            value = op == '*' ? value * right : right == 0 ? throw new DivideByZeroException($"Division by zero in '{text}'.") : value / right;
        }

        return value;
    }

    private double ParseFactor()
    {
        SkipSpaces();
        if (TryTake('-', '-', out _))
        {
            return -ParseFactor();
        }

        if (TryTake('(', '(', out _))
        {
            double inner = ParseSum();
            return TryTake(')', ')', out _) ? inner : throw new FormatException($"Missing ')' in '{text}'.");
        }

        int start = _position;
        while (_position < text.Length && (char.IsAsciiDigit(text[_position]) || text[_position] == '.'))
        {
            _position++;
        }

        return double.TryParse(text.AsSpan(start, _position - start), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double number)
            ? number
            : throw new FormatException($"Expected a number at position {start} in '{text}'.");
    }

    private bool TryTake(char a, char b, out char taken)
    {
        SkipSpaces();
        if (_position < text.Length && (text[_position] == a || text[_position] == b))
        {
            taken = text[_position++];
            return true;
        }

        taken = '\0';
        return false;
    }

    private void SkipSpaces()
    {
        while (_position < text.Length && char.IsWhiteSpace(text[_position]))
        {
            _position++;
        }
    }
}
