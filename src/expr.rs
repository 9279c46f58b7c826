//! Expression syntax: the text of a `when`, `probability` or effect in, a spanned tree out.
//!
//! In: one expression or effect statement as written in the scenario. Out: an [`Expr`] (or
//! [`Statement`]) tree whose spans are byte offsets into that text, or a [`SyntaxError`]. Names
//! are not resolved and types are not checked here: `compile` does both. The parser is a Pratt
//! parser ("Simple but Powerful Pratt Parsing", matklad): one loop over binding powers.
//!
//! Every later pass (type checking, lowering, the evaluators) walks the tree recursively, so the
//! parser refuses an expression nested deeper than [`MAX_DEPTH`] or larger than [`MAX_NODES`]:
//! no expression it accepts can exhaust a stack, not even a small worker thread's.

use std::fmt;
use std::ops::Range;

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Range<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Number(f64),
    Bool(bool),
    /// An enumeration level written in single quotes: `'lethal'`.
    Level(String),
    /// A name, possibly dotted: `t`, `p_talks`, `rok.arms`, `fired.rok_lethal_aid`.
    Name(Vec<String>),
    Unary(UnaryOp, Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    Call(String, Vec<Expr>),
}

impl Expr {
    /// Replaces every span of the tree by `f(span)`: from offsets into the expression's text to
    /// offsets into the file it was read from.
    pub fn map_spans(&mut self, f: &impl Fn(&Range<usize>) -> Range<usize>) {
        self.span = f(&self.span);
        match &mut self.kind {
            ExprKind::Number(_) | ExprKind::Bool(_) | ExprKind::Level(_) | ExprKind::Name(_) => {}
            ExprKind::Unary(_, e) => e.map_spans(f),
            ExprKind::Binary(_, a, b) => {
                a.map_spans(f);
                b.map_spans(f);
            }
            ExprKind::Call(_, args) => args.iter_mut().for_each(|a| a.map_spans(f)),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    Neg,
    Not,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

impl BinaryOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::And => "&&",
            BinaryOp::Or => "||",
        }
    }

    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge
        )
    }

    /// Left and right binding power; higher binds tighter.
    fn binding_power(self) -> (u8, u8) {
        match self {
            BinaryOp::Or => (1, 2),
            BinaryOp::And => (3, 4),
            op if op.is_comparison() => (5, 6),
            BinaryOp::Add | BinaryOp::Sub => (7, 8),
            _ => (9, 10),
        }
    }
}

const PREFIX_POWER: u8 = 11;

/// Most levels an expression may nest: each operator, function call and pair of parentheses is
/// one level, and so is each link of a chain such as `a + b + c` (a tree leaning left). The
/// evaluators recurse once per level; 64 keeps that far from any thread's stack limit.
pub const MAX_DEPTH: usize = 64;
/// Most operands and operations an expression may have; each costs time in every step of every
/// run.
pub const MAX_NODES: usize = 1_000;

fn too_deep(span: Range<usize>) -> SyntaxError {
    SyntaxError::new(format!("the expression nests more than {MAX_DEPTH} levels deep"), span).help(format!(
        "each operator, function call and pair of parentheses is a level, and so is each `+` of a long sum; \
         keep expressions within {MAX_DEPTH} levels, for example by moving part of one into a param"
    ))
}

/// An effect: `target = expr`, `target += expr` or `target -= expr`.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub target: Vec<String>,
    pub target_span: Range<usize>,
    pub op: AssignOp,
    pub value: Expr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssignOp {
    Set,
    Add,
    Sub,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    pub message: String,
    pub span: Range<usize>,
    pub help: Option<String>,
}

impl SyntaxError {
    fn new(message: impl Into<String>, span: Range<usize>) -> Self {
        SyntaxError {
            message: message.into(),
            span,
            help: None,
        }
    }
    fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

// ---- Lexer ----------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Number(f64),
    Ident(String),
    Level(String),
    Op(&'static str),
    End,
}

const OPERATORS: [&str; 21] = [
    "==", "!=", "<=", ">=", "&&", "||", "+=", "-=", "+", "-", "*", "/", "<", ">", "!", "=", "(", ")", ",", ".", "&",
];

fn lex(text: &str) -> Result<Vec<(Token, Range<usize>)>, SyntaxError> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c.is_ascii_digit() || (c == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)) {
            while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.' || bytes[i] == b'_') {
                i += 1;
            }
            if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
                i += 1;
                if i < bytes.len() && (bytes[i] == b'+' || bytes[i] == b'-') {
                    i += 1;
                }
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
            }
            let literal = text[start..i].replace('_', "");
            let value = literal
                .parse::<f64>()
                .ok()
                .filter(|v: &f64| v.is_finite())
                .ok_or_else(|| SyntaxError::new(format!("`{}` is not a finite number", &text[start..i]), start..i))?;
            tokens.push((Token::Number(value), start..i));
        } else if c.is_ascii_alphabetic() || c == b'_' {
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            tokens.push((Token::Ident(text[start..i].to_string()), start..i));
        } else if c == b'\'' {
            let close = text[i + 1..].find('\'').ok_or_else(|| {
                SyntaxError::new("unclosed level literal", start..text.len())
                    .help("close the level name with a single quote: 'lethal'")
            })?;
            i += close + 2;
            tokens.push((Token::Level(text[start + 1..i - 1].to_string()), start..i));
        } else if let Some(op) = OPERATORS.iter().find(|op| text[i..].starts_with(**op)) {
            i += op.len();
            if *op == "&" || (*op == "|") {
                return Err(SyntaxError::new(format!("unknown operator `{op}`"), start..i)
                    .help("logical and is `&&`, logical or is `||`"));
            }
            tokens.push((Token::Op(op), start..i));
        } else {
            let ch = text[i..].chars().next().unwrap_or('?');
            let mut error = SyntaxError::new(format!("unexpected character `{ch}`"), start..start + ch.len_utf8());
            if ch == '"' {
                error = error.help("write enumeration levels in single quotes: 'lethal'");
            } else if ch == '|' {
                error = error.help("logical or is `||`");
            }
            return Err(error);
        }
    }
    tokens.push((Token::End, text.len()..text.len()));
    Ok(tokens)
}

// ---- Parser ---------------------------------------------------------------------------------

struct Parser {
    tokens: Vec<(Token, Range<usize>)>,
    position: usize,
    /// How many `expression` calls are under way: the parser's own recursion, which
    /// parentheses deepen though they add no node.
    nesting: usize,
    /// Nodes built so far.
    nodes: usize,
}

impl Parser {
    fn peek(&self) -> &Token {
        &self.tokens[self.position].0
    }

    fn span(&self) -> Range<usize> {
        self.tokens[self.position].1.clone()
    }

    fn next(&mut self) -> (Token, Range<usize>) {
        let token = self.tokens[self.position].clone();
        if self.position + 1 < self.tokens.len() {
            self.position += 1;
        }
        token
    }

    fn expect(&mut self, op: &'static str) -> Result<Range<usize>, SyntaxError> {
        match self.next() {
            (Token::Op(found), span) if found == op => Ok(span),
            (token, span) => Err(SyntaxError::new(
                format!("expected `{op}`, found {}", describe(&token)),
                span,
            )),
        }
    }

    fn new(text: &str) -> Result<Parser, SyntaxError> {
        Ok(Parser {
            tokens: lex(text)?,
            position: 0,
            nesting: 0,
            nodes: 0,
        })
    }

    /// Counts a node spanning `span`, refusing one too many.
    fn node(&mut self, span: &Range<usize>) -> Result<(), SyntaxError> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(SyntaxError::new(
                format!("the expression has more than {MAX_NODES} operands and operations"),
                span.clone(),
            )
            .help("split it, for example by moving part of it into a param"));
        }
        Ok(())
    }

    /// An expression and its depth (a leaf is 1).
    fn expression(&mut self, min_power: u8) -> Result<(Expr, usize), SyntaxError> {
        if self.nesting >= MAX_DEPTH {
            return Err(too_deep(self.span()));
        }
        self.nesting += 1;
        let result = self.expression_within(min_power);
        self.nesting -= 1;
        result
    }

    fn expression_within(&mut self, min_power: u8) -> Result<(Expr, usize), SyntaxError> {
        let (mut left, mut depth) = self.operand()?;
        loop {
            let op = match self.peek() {
                Token::Op(symbol) => match binary_op(symbol) {
                    Some(op) => op,
                    None => break,
                },
                Token::Ident(word) if matches!(word.as_str(), "and" | "or") => {
                    let symbol = if word == "and" { "&&" } else { "||" };
                    return Err(SyntaxError::new(format!("unexpected word `{word}`"), self.span())
                        .help(format!("write `{symbol}` for `{word}`")));
                }
                _ => break,
            };
            let (left_power, right_power) = op.binding_power();
            if left_power < min_power {
                break;
            }
            let op_span = self.span();
            if depth >= MAX_DEPTH {
                return Err(too_deep(op_span));
            }
            self.next();
            let (right, right_depth) = self.expression(right_power)?;
            if op.is_comparison()
                && let Token::Op(next) = self.peek()
                && binary_op(next).is_some_and(BinaryOp::is_comparison)
            {
                return Err(SyntaxError::new("comparisons cannot be chained", self.span())
                    .help("combine two comparisons with `&&`, e.g. `a < b && b < c`"));
            }
            let span = left.span.start..right.span.end;
            depth = depth.max(right_depth) + 1;
            if depth > MAX_DEPTH {
                return Err(too_deep(op_span));
            }
            self.node(&span)?;
            left = Expr {
                kind: ExprKind::Binary(op, Box::new(left), Box::new(right)),
                span,
            };
        }
        Ok((left, depth))
    }

    fn operand(&mut self) -> Result<(Expr, usize), SyntaxError> {
        let (token, span) = self.next();
        let kind = match token {
            Token::Number(value) => ExprKind::Number(value),
            Token::Level(level) => ExprKind::Level(level),
            Token::Op("(") => {
                let (inner, depth) = self.expression(0)?;
                let close = self.expect(")")?;
                return Ok((
                    Expr {
                        kind: inner.kind,
                        span: span.start..close.end,
                    },
                    depth,
                ));
            }
            Token::Op(symbol @ ("-" | "!")) => {
                let op = if symbol == "-" { UnaryOp::Neg } else { UnaryOp::Not };
                let (operand, depth) = self.expression(PREFIX_POWER)?;
                let full = span.start..operand.span.end;
                if depth >= MAX_DEPTH {
                    return Err(too_deep(span));
                }
                self.node(&full)?;
                return Ok((
                    Expr {
                        kind: ExprKind::Unary(op, Box::new(operand)),
                        span: full,
                    },
                    depth + 1,
                ));
            }
            Token::Ident(word) if word == "true" || word == "false" => ExprKind::Bool(word == "true"),
            Token::Ident(word) if word == "not" => {
                return Err(SyntaxError::new("unexpected word `not`", span).help("write `!` for `not`"));
            }
            Token::Ident(word) => {
                if self.peek() == &Token::Op("(") {
                    return self.call(word, span);
                }
                let (path, path_span) = self.path(word, span)?;
                self.node(&path_span)?;
                return Ok((
                    Expr {
                        kind: ExprKind::Name(path),
                        span: path_span,
                    },
                    1,
                ));
            }
            other => {
                return Err(
                    SyntaxError::new(format!("expected a value, found {}", describe(&other)), span)
                        .help("a value is a number, `true`/`false`, a 'level', a name or a parenthesised expression"),
                );
            }
        };
        self.node(&span)?;
        Ok((Expr { kind, span }, 1))
    }

    fn path(&mut self, first: String, span: Range<usize>) -> Result<(Vec<String>, Range<usize>), SyntaxError> {
        let mut path = vec![first];
        let mut end = span.end;
        while self.peek() == &Token::Op(".") {
            self.next();
            match self.next() {
                (Token::Ident(part), part_span) => {
                    path.push(part);
                    end = part_span.end;
                }
                (token, bad) => {
                    return Err(SyntaxError::new(
                        format!("expected a name after `.`, found {}", describe(&token)),
                        bad,
                    ));
                }
            }
        }
        Ok((path, span.start..end))
    }

    fn call(&mut self, function: String, span: Range<usize>) -> Result<(Expr, usize), SyntaxError> {
        self.expect("(")?;
        let mut arguments = Vec::new();
        let mut depth = 0;
        if self.peek() != &Token::Op(")") {
            loop {
                let (argument, argument_depth) = self.expression(0)?;
                depth = depth.max(argument_depth);
                arguments.push(argument);
                if self.peek() == &Token::Op(",") {
                    self.next();
                } else {
                    break;
                }
            }
        }
        let close = self.expect(")")?;
        let full = span.start..close.end;
        if depth >= MAX_DEPTH {
            return Err(too_deep(span));
        }
        self.node(&full)?;
        Ok((
            Expr {
                kind: ExprKind::Call(function, arguments),
                span: full,
            },
            depth + 1,
        ))
    }

    fn finish(&mut self) -> Result<(), SyntaxError> {
        match self.peek() {
            Token::End => Ok(()),
            Token::Op("=") => Err(SyntaxError::new("unexpected `=`", self.span())
                .help("compare with `==`; assignments belong in `effects`")),
            token => Err(SyntaxError::new(
                format!("unexpected {} after a complete expression", describe(token)),
                self.span(),
            )
            .help("join two conditions with `&&` or `||`")),
        }
    }
}

fn binary_op(symbol: &str) -> Option<BinaryOp> {
    Some(match symbol {
        "+" => BinaryOp::Add,
        "-" => BinaryOp::Sub,
        "*" => BinaryOp::Mul,
        "/" => BinaryOp::Div,
        "==" => BinaryOp::Eq,
        "!=" => BinaryOp::Ne,
        "<" => BinaryOp::Lt,
        "<=" => BinaryOp::Le,
        ">" => BinaryOp::Gt,
        ">=" => BinaryOp::Ge,
        "&&" => BinaryOp::And,
        "||" => BinaryOp::Or,
        _ => return None,
    })
}

fn describe(token: &Token) -> String {
    match token {
        Token::Number(n) => format!("number `{n}`"),
        Token::Ident(name) => format!("name `{name}`"),
        Token::Level(level) => format!("level `'{level}'`"),
        Token::Op(op) => format!("`{op}`"),
        Token::End => "the end of the expression".into(),
    }
}

/// Parses an expression.
pub fn parse_expr(text: &str) -> Result<Expr, SyntaxError> {
    let mut parser = Parser::new(text)?;
    if parser.peek() == &Token::End {
        return Err(SyntaxError::new("the expression is empty", 0..text.len()));
    }
    let (expr, _) = parser.expression(0)?;
    parser.finish()?;
    Ok(expr)
}

/// Parses an effect statement: `target = expr`, `target += expr` or `target -= expr`.
pub fn parse_statement(text: &str) -> Result<Statement, SyntaxError> {
    let mut parser = Parser::new(text)?;
    let (target, target_span) = match parser.next() {
        (Token::Ident(first), span) => parser.path(first, span)?,
        (token, span) => {
            return Err(SyntaxError::new(
                format!(
                    "expected a target such as `rok.vigilance` or `escalation`, found {}",
                    describe(&token)
                ),
                span,
            )
            .help("an effect reads `target = expr`, `target += expr` or `target -= expr`"));
        }
    };
    let op = match parser.next() {
        (Token::Op("="), _) => AssignOp::Set,
        (Token::Op("+="), _) => AssignOp::Add,
        (Token::Op("-="), _) => AssignOp::Sub,
        (Token::Op("=="), span) => {
            return Err(SyntaxError::new("`==` compares; an effect assigns", span).help("write `=` to assign"));
        }
        (token, span) => {
            return Err(SyntaxError::new(
                format!("expected `=`, `+=` or `-=`, found {}", describe(&token)),
                span,
            ));
        }
    };
    if parser.peek() == &Token::End {
        return Err(SyntaxError::new("the effect has no value", parser.span()));
    }
    let (value, _) = parser.expression(0)?;
    parser.finish()?;
    Ok(Statement {
        target,
        target_span,
        op,
        value,
    })
}

/// S-expression form, for tests and debugging: `(+ 1 (* 2 3))`.
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Number(n) => write!(f, "{n}"),
            ExprKind::Bool(b) => write!(f, "{b}"),
            ExprKind::Level(level) => write!(f, "'{level}'"),
            ExprKind::Name(path) => write!(f, "{}", path.join(".")),
            ExprKind::Unary(UnaryOp::Neg, e) => write!(f, "(- {e})"),
            ExprKind::Unary(UnaryOp::Not, e) => write!(f, "(! {e})"),
            ExprKind::Binary(op, a, b) => write!(f, "({} {a} {b})", op.symbol()),
            ExprKind::Call(name, args) => {
                write!(f, "({name}")?;
                for arg in args {
                    write!(f, " {arg}")?;
                }
                write!(f, ")")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sexpr(text: &str) -> String {
        parse_expr(text)
            .map(|e| e.to_string())
            .unwrap_or_else(|e| format!("error: {}", e.message))
    }

    #[test]
    fn precedence_and_associativity() {
        assert_eq!(sexpr("1 + 2 * 3"), "(+ 1 (* 2 3))");
        assert_eq!(sexpr("1 - 2 - 3"), "(- (- 1 2) 3)");
        assert_eq!(sexpr("a || b && !c"), "(|| a (&& b (! c)))");
        assert_eq!(sexpr("-x * 2 < 3 && t >= 4"), "(&& (< (* (- x) 2) 3) (>= t 4))");
        assert_eq!(sexpr("(1 + 2) * 3"), "(* (+ 1 2) 3)");
    }

    #[test]
    fn names_levels_and_calls() {
        assert_eq!(sexpr("rok.arms == 'lethal'"), "(== rok.arms 'lethal')");
        assert_eq!(sexpr("clamp(p * 2, 0, 1)"), "(clamp (* p 2) 0 1)");
        assert_eq!(sexpr("since.rok_aid > 3"), "(> since.rok_aid 3)");
        assert_eq!(sexpr("1e-3 + .5"), "(+ 0.001 0.5)");
    }

    #[test]
    fn spans_point_at_the_source() {
        let e = parse_expr("a + rok.arms").unwrap();
        let ExprKind::Binary(_, _, right) = e.kind else {
            panic!()
        };
        assert_eq!(right.span, 4..12);
    }

    #[test]
    fn errors_explain_the_fix() {
        let e = parse_expr("a < b < c").unwrap_err();
        assert!(e.message.contains("chained"));
        let e = parse_expr("a and b").unwrap_err();
        assert_eq!(e.help.as_deref(), Some("write `&&` for `and`"));
        let e = parse_expr("x = 1").unwrap_err();
        assert!(e.help.unwrap().contains("=="));
        let e = parse_expr("rok.arms == \"lethal\"").unwrap_err();
        assert_eq!(e.span, 12..13);
        assert!(parse_expr("(1 + 2").unwrap_err().message.contains("expected `)`"));
        assert!(parse_expr("").is_err());
    }

    #[test]
    fn depth_and_size_are_limited() {
        let chain = |terms: usize| vec!["1"; terms].join(" + ");
        assert!(parse_expr(&chain(MAX_DEPTH)).is_ok());
        let e = parse_expr(&chain(MAX_DEPTH + 1)).unwrap_err();
        assert!(e.message.contains("nests more than 64"), "{}", e.message);
        // The `+` that would make the 65th level.
        assert_eq!(e.span, 4 * MAX_DEPTH - 2..4 * MAX_DEPTH - 1);
        let nested = |open: &str, n: usize| format!("{}1{}", open.repeat(n), ")".repeat(n * open.matches('(').count()));
        assert!(parse_expr(&nested("(", MAX_DEPTH - 1)).is_ok());
        assert!(parse_expr(&nested("(", MAX_DEPTH)).is_err());
        assert!(parse_expr(&nested("abs(", MAX_DEPTH - 1)).is_ok());
        assert!(parse_expr(&nested("abs(", MAX_DEPTH)).is_err());
        assert!(parse_expr(&nested("-", MAX_DEPTH - 1)).is_ok());
        assert!(parse_expr(&nested("-", MAX_DEPTH)).is_err());
        assert!(parse_statement(&format!("x = {}", nested("!", 100_000))).is_err());
        // Wide but shallow: refused by size.
        let wide = (0..10).fold("1".to_string(), |e, _| format!("({e}) + ({e})"));
        let e = parse_expr(&wide).unwrap_err();
        assert!(e.message.contains("more than 1000 operands"), "{}", e.message);
    }

    #[test]
    fn statements() {
        let s = parse_statement("escalation += 1").unwrap();
        assert_eq!(
            (s.target, s.op, s.value.to_string()),
            (vec!["escalation".into()], AssignOp::Add, "1".into())
        );
        let s = parse_statement("rok.arms = 'lethal'").unwrap();
        assert_eq!(s.target_span, 0..8);
        assert!(
            parse_statement("rok.arms == 'x'")
                .unwrap_err()
                .help
                .unwrap()
                .contains("`=`")
        );
        assert!(parse_statement("escalation +=").is_err());
    }
}
